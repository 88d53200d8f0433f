// The one test command, `bun run test`: installs the Debian packages the tests
// need when they are missing (apt-get as root; otherwise one line saying
// exactly what to install), then runs `bun test` with any arguments given.

const needs = [
  { command: "openssl", pkg: "openssl", why: "TLS tests make their own certificates" },
  { command: "chromium", pkg: "chromium", why: "the web client is tested in a real browser" },
] as const;

const missing = needs.filter((need) => Bun.which(need.command) === null);
if (missing.length > 0) {
  const pkgs = missing.map((need) => need.pkg);
  if (process.getuid?.() !== 0) {
    process.stderr.write(`parley: the tests need ${pkgs.join(", ")} (${missing.map((need) => need.why).join("; ")}): run  sudo apt-get install -y ${pkgs.join(" ")}\n`);
    process.exit(1);
  }
  for (const args of [["update"], ["install", "-y", "--no-install-recommends", ...pkgs]]) {
    const apt = Bun.spawn(["apt-get", ...args], { stdin: "ignore", stdout: "inherit", stderr: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if ((await apt.exited) !== 0) {
      process.stderr.write(`parley: apt-get ${args.join(" ")} failed; install ${pkgs.join(" ")} and run the tests again\n`);
      process.exit(1);
    }
  }
}

const tests = Bun.spawn([process.execPath, "test", ...process.argv.slice(2)], { stdin: "ignore", stdout: "inherit", stderr: "inherit" });
process.exit(await tests.exited);
