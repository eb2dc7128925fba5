// The reward language client: starts `<reward.server.path> lsp` (the language server of the
// `reward` binary, on standard input and output) for every `reward` document. Plain JavaScript,
// no build step. The grammar and the language configuration need no code: package.json
// contributes them.
"use strict";

const os = require("os");
const path = require("path");
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.OutputChannel | undefined} */
let outputChannel;

/** The server command from `reward.server.path`: `~` expanded, a relative path with a slash
 * taken from the first workspace folder, a bare name left for PATH. */
function serverCommand() {
  let command = vscode.workspace.getConfiguration("reward").get("server.path", "reward").trim() || "reward";
  if (command === "~" || command.startsWith("~/")) {
    command = path.join(os.homedir(), command.slice(1));
  }
  const folders = vscode.workspace.workspaceFolders;
  if (!path.isAbsolute(command) && /[\\/]/.test(command) && folders && folders.length > 0) {
    command = path.join(folders[0].uri.fsPath, command);
  }
  return command;
}

async function startClient() {
  const command = serverCommand();
  const executable = { command, args: ["lsp"], transport: TransportKind.stdio };
  outputChannel = outputChannel || vscode.window.createOutputChannel("Reward Language Server");
  client = new LanguageClient(
    "reward",
    "Reward Language Server",
    { run: executable, debug: executable },
    {
      documentSelector: [
        { scheme: "file", language: "reward" },
        { scheme: "untitled", language: "reward" },
      ],
      outputChannel,
    },
  );
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    const message = error && error.message ? error.message : String(error);
    const choice = await vscode.window.showErrorMessage(
      `Could not start the reward language server (\`${command} lsp\`): ${message}. ` +
        "Install it with `cargo install --path cli` from the reward repository, or set `reward.server.path`.",
      "Open Settings",
    );
    if (choice === "Open Settings") {
      vscode.commands.executeCommand("workbench.action.openSettings", "reward.server.path");
    }
  }
}

async function stopClient() {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch {
      // Already stopped (it failed to start or exited).
    }
  }
}

async function restartClient() {
  await stopClient();
  await startClient();
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("reward.restartServer", restartClient),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("reward.server.path")) restartClient();
    }),
    { dispose: () => void stopClient() },
  );
  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate };
