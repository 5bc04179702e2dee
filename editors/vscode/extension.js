// Starts hapee-lsp for HAProxy files. VS Code activates the extension when the first one opens
// (the language package.json contributes implies that activation event).
const { workspace } = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

exports.activate = function () {
  // A GUI's PATH often lacks ~/.cargo/bin, hence the setting.
  const command = workspace.getConfiguration("hapee").get("serverPath") || "hapee-lsp";
  client = new LanguageClient(
    "hapee-lsp",
    "hapee-lsp",
    { command },
    { documentSelector: [{ language: "haproxy" }] },
  );
  return client.start();
};

exports.deactivate = function () {
  return client && client.stop();
};
