-- Drives hapee-lsp from inside Neovim: opens a file, attaches the server (with the 0.7 API, or
-- with the 0.10+ set-up of docs/editors.md when $HAPEE_NVIM_SETUP is "0.10"), hovers and
-- edits, and writes what the editor received as JSON lines to $HAPEE_NVIM_OUT:
--   {"event":"diagnostics","codes":[...]}        after opening
--   {"event":"hover","text":...}                  hover on $HAPEE_NVIM_HOVER_LINE/COL (0-based)
--   {"event":"signature","label":...,"param":...,"triggers":[...]}
--                                                 signature help at $HAPEE_NVIM_SIGNATURE_LINE/COL
--   {"event":"edit","ms":...,"codes":[...]}        after replacing line $HAPEE_NVIM_EDIT_LINE
--                                                 with $HAPEE_NVIM_EDIT_TEXT (repeated
--                                                 $HAPEE_NVIM_EDITS times, alternating)
local env = os.getenv
local out = assert(io.open(env("HAPEE_NVIM_OUT"), "w"))
local function emit(t)
  out:write(vim.fn.json_encode(t) .. "\n")
  out:flush()
end
local function codes(buf)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(list, d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or "")
  end
  table.sort(list)
  return list
end

local id
local hapee_client
if env("HAPEE_NVIM_SETUP") == "0.10" then
  -- The set-up docs/editors.md gives for Neovim 0.10 and later, with no debounce added.
  vim.filetype.add({ pattern = { [".*/haproxy.*%.cfg"] = "haproxy" } })
  vim.api.nvim_create_autocmd("FileType", {
    pattern = "haproxy",
    callback = function(args)
      vim.lsp.start({
        name = "hapee-lsp",
        cmd = { env("HAPEE_LSP") },
        root_dir = vim.fs.root(args.buf, { ".hapee.toml", ".git" }) or vim.fn.getcwd(),
        -- As below: the time measured is the server's and the client's.
        flags = { debounce_text_changes = 0 },
      })
    end,
  })
else
  -- The set-up docs/editors.md gives for Neovim 0.7 to 0.9, with no debounce added: Neovim
  -- waits 150 ms after a keystroke before sending it; the time measured here is the server's
  -- and the client's, without that wait.
  vim.api.nvim_create_autocmd({ "BufRead", "BufNewFile" }, {
    pattern = { "haproxy*.cfg", "/etc/haproxy/*.cfg" },
    command = "set filetype=haproxy",
  })
  vim.api.nvim_create_autocmd("FileType", {
    pattern = "haproxy",
    callback = function(args)
      if not hapee_client or vim.lsp.client_is_stopped(hapee_client) then
        hapee_client = vim.lsp.start_client({
          name = "hapee-lsp",
          cmd = { env("HAPEE_LSP") },
          root_dir = vim.fn.getcwd(),
          flags = { debounce_text_changes = 0 },
        })
      end
      vim.lsp.buf_attach_client(args.buf, hapee_client)
      vim.bo[args.buf].omnifunc = "v:lua.vim.lsp.omnifunc"
      vim.keymap.set("n", "K", vim.lsp.buf.hover, { buffer = args.buf })
      vim.keymap.set("i", "<C-s>", vim.lsp.buf.signature_help, { buffer = args.buf })
    end,
  })
end
vim.cmd("edit " .. vim.fn.fnameescape(env("HAPEE_NVIM_CFG")))
local buf = vim.api.nvim_get_current_buf()
local changes = 0
vim.api.nvim_create_autocmd("DiagnosticChanged", {
  buffer = buf,
  callback = function() changes = changes + 1 end,
})
if env("HAPEE_NVIM_SETUP") == "0.10" then
  vim.wait(30000, function() return #vim.lsp.get_clients({ bufnr = buf }) > 0 end, 1)
  local attached = vim.lsp.get_clients({ bufnr = buf })[1]
  if not attached then
    emit({ event = "not attached", filetype = vim.bo[buf].filetype })
    vim.cmd("qa!")
  end
  id = attached.id
else
  id = hapee_client
end
local timeout = 30000
if not vim.wait(timeout, function() return changes > 0 end, 1) then
  emit({ event = "timeout" })
  vim.cmd("qa!")
end
emit({ event = "diagnostics", codes = codes(buf) })

local client = vim.lsp.get_client_by_id(id)
-- The client's answer to `method` at `line`, `col` of the buffer.
local function request_at(method, line, col)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = line, character = col },
  }
  -- Client methods take `self` from 0.11 on.
  if vim.fn.has("nvim-0.11") == 1 then
    return client:request_sync(method, params, timeout, buf)
  end
  return client.request_sync(method, params, timeout, buf)
end
local line, col = tonumber(env("HAPEE_NVIM_HOVER_LINE")), tonumber(env("HAPEE_NVIM_HOVER_COL"))
if line then
  local r = request_at("textDocument/hover", line, col)
  local text = r and r.result and r.result.contents and r.result.contents.value or ""
  emit({ event = "hover", text = text })
end

-- Signature help where the editor would ask for it (what `vim.lsp.buf.signature_help()` shows).
local sig_line, sig_col = tonumber(env("HAPEE_NVIM_SIGNATURE_LINE")), tonumber(env("HAPEE_NVIM_SIGNATURE_COL"))
if sig_line then
  local r = request_at("textDocument/signatureHelp", sig_line, sig_col)
  local help = r and r.result or {}
  local sig = help.signatures and help.signatures[1] or {}
  local active = help.activeParameter and sig.parameters and sig.parameters[help.activeParameter + 1]
  local param = ""
  if active and type(active.label) == "table" then
    param = string.sub(sig.label, active.label[1] + 1, active.label[2])
  end
  -- As a user asks: what <C-s> in Insert mode runs, the cursor where the request was made;
  -- what the editor shows is the text of its floating window.
  vim.api.nvim_win_set_cursor(0, { sig_line + 1, sig_col })
  -- The buffer's own mapping (0.7 gives its function only through the buffer's list), else
  -- the global one.
  local press
  for _, m in ipairs(vim.api.nvim_buf_get_keymap(buf, "i")) do
    if m.lhs == "<C-S>" then press = m.callback end
  end
  if type(press) ~= "function" then
    press = vim.fn.maparg("<C-S>", "i", false, true).callback
  end
  local shown = ""
  if type(press) == "function" then press() end
  vim.wait(type(press) == "function" and timeout or 0, function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= "" then
        shown = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false), "\n")
        return true
      end
    end
    return false
  end, 1)
  emit({
    event = "signature",
    shown = shown,
    label = sig.label or "",
    param = param,
    triggers = client.server_capabilities and client.server_capabilities.signatureHelpProvider
      and client.server_capabilities.signatureHelpProvider.triggerCharacters
      or client.resolved_capabilities and client.resolved_capabilities.signature_help_trigger_characters
      or {},
  })
end

local edit_line = tonumber(env("HAPEE_NVIM_EDIT_LINE"))
if edit_line then
  -- The server publishes diagnostics only when they change (or sit on the edited line): after
  -- an edit that leaves them as they were, nothing comes. A hover request sent right after the
  -- change tells when the server is done: it answers once it has published what it owes. The
  -- edit is over when that answer came and, if diagnostics were published, they are shown.
  local published = 0
  local method = "textDocument/publishDiagnostics"
  local handler = vim.lsp.handlers[method]
  vim.lsp.handlers[method] = function(...)
    published = published + 1
    return handler(...)
  end
  local texts = { env("HAPEE_NVIM_EDIT_TEXT"), vim.api.nvim_buf_get_lines(buf, edit_line, edit_line + 1, false)[1] }
  for i = 1, tonumber(env("HAPEE_NVIM_EDITS") or "1") do
    local before, published_before, answered = changes, published, false
    -- bench/nvim-phases.lua, when loaded first, times the client's phases of each edit.
    local phases = rawget(_G, "hapee_phases")
    if phases then phases.start() end
    local t0 = vim.loop.hrtime()
    vim.api.nvim_buf_set_lines(buf, edit_line, edit_line + 1, false, { texts[(i - 1) % 2 + 1] })
    local t1 = vim.loop.hrtime()
    if phases then phases.changed() end
    local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = 0, character = 0 } }
    local function done() answered = true end
    if vim.fn.has("nvim-0.11") == 1 then
      client:request("textDocument/hover", params, done, buf)
    else
      client.request("textDocument/hover", params, done, buf)
    end
    vim.wait(timeout, function()
      return answered and (changes > before or published == published_before)
    end, 0)
    emit({
      event = "edit",
      ms = (vim.loop.hrtime() - t0) / 1e6,
      codes = codes(buf),
      published = published > published_before,
      phases = phases and phases.take(t0, t1),
    })
  end
end
vim.lsp.stop_client(id)
vim.cmd("qa!")
