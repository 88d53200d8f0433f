// The lenient readings: what a server may write that the original design
// leaves open and that lenient clients accept (docs/protocol.md D70). The kit
// names each one it meets; a contract check that meets one is a DEVIATION, not a FAIL.

export const Deviations = {
  "send-for-sent": "SEND <name> for SENT <name>, as the original design's message table writes it (docs/protocol.md D8)",
  "error-text": "an ERROR's text in other letter case, as the original design writes ERROR 103 Header Incomplete",
  "space-terminator": "a header block ended by a line of spaces or tabs (\\n \\n)",
  "no-empty-line": "a message ended by a single \\n, with no empty line",
  "trailing-space": "spaces or tabs at the end of a header line",
  crlf: "\\r\\n line ends, where a server writes bare \\n (PROTOCOL.md §1)",
  "blank-line": "empty lines between messages",
  "field-spelling": "a header field spelled in other letter case or spacing (Content-Length, Content-length:5)",
  "extra-field": "a header field the client did not ask for",
} as const;

export type Deviation = keyof typeof Deviations;
