// Signing in: a name, with the terminal client's rule and words, and a
// password only once the server says the name is protected (ERROR 105). A
// password never leaves in clear for another machine (docs/protocol.md D40).

import type { ConnectError } from "../client/registration.ts";
import { connectErrorText } from "../client/render.ts";
import { isValidUsername } from "../protocol/names.ts";
import { passwordProblem, passwordProblemText } from "../protocol/password.ts";
import { WebSession } from "./session.ts";

export type SignInElements = {
  readonly form: HTMLFormElement;
  readonly name: HTMLInputElement;
  readonly passwordRow: HTMLElement;
  readonly password: HTMLInputElement;
  readonly error: HTMLElement;
  readonly submit: HTMLButtonElement;
};

/** Where the page came from: what the rules for names and passwords need to know. */
export type Origin = { readonly host: string; readonly address: string; readonly secure: boolean };

/** What the form asks for: a valid name, and the password's bytes if one was typed. */
export type Credentials = { readonly user: string; readonly password: Uint8Array | undefined };

const encoder = new TextEncoder();

export class SignIn {
  readonly #elements: SignInElements;
  readonly #origin: Origin;

  constructor(elements: SignInElements, origin: Origin, onSubmit: (credentials: Credentials) => void) {
    this.#elements = elements;
    this.#origin = origin;
    elements.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const credentials = this.#read();
      if (credentials !== undefined) onSubmit(credentials);
    });
  }

  set busy(busy: boolean) {
    this.#elements.submit.disabled = busy;
    if (busy) this.#elements.error.textContent = "";
  }

  /** Says why the last try failed, asking for the password when that is what is missing. */
  failed(error: ConnectError, credentials: Credentials): void {
    const { user, password } = credentials;
    if (error.kind !== "not-authorized") return this.say(connectErrorText(error, this.#origin.address, user));
    if (!WebSession.mayCarryPassword(this.#origin.secure, this.#origin.host)) {
      this.#elements.passwordRow.hidden = true;
      return this.say(`"${user}" needs a password, and this page sends one only over HTTPS or to this machine: open it over HTTPS instead (https://${this.#origin.address}/)`);
    }
    this.#elements.passwordRow.hidden = false;
    this.#elements.password.value = "";
    this.#elements.password.focus();
    this.say(password === undefined ? `"${user}" is protected by a password: enter it to sign in` : `that is not the password of "${user}"`);
  }

  say(text: string): void {
    this.#elements.error.textContent = text;
  }

  focus(): void {
    this.#elements.name.focus();
  }

  #read(): Credentials | undefined {
    const { name, password, passwordRow } = this.#elements;
    const user = name.value.trim();
    if (!isValidUsername(user)) {
      this.say(connectErrorText({ kind: "malformed-name" }, this.#origin.address, user));
      name.focus();
      return undefined;
    }
    if (passwordRow.hidden || password.value === "") return { user, password: undefined };
    const bytes = encoder.encode(password.value);
    const problem = passwordProblem(bytes);
    if (problem !== undefined) {
      this.say(passwordProblemText[problem]);
      password.focus();
      return undefined;
    }
    return { user, password: bytes };
  }
}
