// The web client's entry point: finds the page's parts, signs in, and hands
// the session to the chat. The page is served by parley itself, so its
// WebSocket is this page's own host at /ws (docs/protocol.md D44, D47).

import { byId } from "./dom.ts";
import { Chat } from "./chat.ts";
import { SignIn, type Credentials, type Origin } from "./sign-in.ts";
import { WebSession } from "./session.ts";

const origin: Origin = { host: location.hostname, address: location.host, secure: location.protocol === "https:" };
const url = `${origin.secure ? "wss" : "ws"}://${location.host}/ws`;

const signInView = byId("sign-in", HTMLElement);
const chatView = byId("chat", HTMLElement);

const chat = new Chat(
  {
    status: byId("status", HTMLElement),
    roster: byId("roster", HTMLUListElement),
    online: byId("online", HTMLElement),
    title: byId("conversation-title", HTMLElement),
    logs: byId("logs", HTMLElement),
    compose: byId("compose", HTMLFormElement),
    message: byId("message", HTMLInputElement),
    composeError: byId("compose-error", HTMLElement),
  },
  origin.address,
  (why) => leave(why),
);

const signIn = new SignIn(
  {
    form: byId("sign-in-form", HTMLFormElement),
    name: byId("name", HTMLInputElement),
    passwordRow: byId("password-row", HTMLElement),
    password: byId("password", HTMLInputElement),
    error: byId("sign-in-error", HTMLElement),
    submit: byId("sign-in-button", HTMLButtonElement),
  },
  origin,
  (credentials) => void enter(credentials),
);

byId("sign-out", HTMLButtonElement).addEventListener("click", () => leave(""));

async function enter(credentials: Credentials): Promise<void> {
  signIn.busy = true;
  const session = new WebSession({ url, host: origin.host, secure: origin.secure, ...credentials, onEvent: (event) => chat.onEvent(event) });
  chat.start(session, credentials.user);
  const error = await session.connect();
  signIn.busy = false;
  if (error !== undefined) {
    chat.stop();
    return signIn.failed(error, credentials);
  }
  signInView.hidden = true;
  chatView.hidden = false;
  byId("message", HTMLInputElement).focus();
}

/** Back to signing in, saying why when it was not the user's own choice. */
function leave(why: string): void {
  chat.stop();
  chatView.hidden = true;
  signInView.hidden = false;
  signIn.say(why);
  signIn.focus();
}

signIn.focus();
