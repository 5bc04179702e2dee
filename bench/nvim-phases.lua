-- Where Neovim's time goes between a buffer change and the diagnostics it shows, for
-- bench/lsp.sh: loaded before lsp/tests/nvim/drive.lua, it wraps the functions the client runs
-- (JSON decoding, the publishDiagnostics handler, vim.diagnostic.set and its display handlers)
-- and drive.lua adds each edit's phases (wall-clock ms) to its line:
--   change     nvim_buf_set_lines itself: the on_lines callbacks (the LSP client's
--              incremental diff and didChange, vim.diagnostic's extmark bookkeeping)
--   wait       from there to the start of decoding the publishDiagnostics: the server's time,
--              the pipe, and the client reading the message in chunks
--   decode     vim.json.decode of that message
--   queue      from decoded to the handler's start (the main loop's schedule)
--   convert    the handler less vim.diagnostic.set: LSP diagnostics to vim.diagnostic ones
--   signs, underline, virtual_text
--              each display handler's hide and show
--   autocmd    the DiagnosticChanged autocommands
--   store      the rest of vim.diagnostic.set
-- and `cpu`: Neovim's CPU time in change, decode and the handler (the client's own work, which
-- a loaded machine stretches less than the wall clock).
local hr = vim.loop.hrtime
local spent, at = {}, {}
local in_set = false
-- Neovim's CPU time (os.clock) at the buffer change's start and end, and in decode and handler.
local cpu, cpu0, cpu1 = 0, 0, 0

-- Calls `f`, adds its duration to `phase`, remembers when `phase` first started and ended.
local function timed(phase, f)
  return function(...)
    local t0, c0 = hr(), os.clock()
    at[phase .. ".start"] = at[phase .. ".start"] or t0
    local function done(...)
      local t1 = hr()
      spent[phase] = (spent[phase] or 0) + t1 - t0
      at[phase .. ".end"] = t1
      if phase == "decode" or phase == "handler" then
        cpu = cpu + os.clock() - c0
      end
      return ...
    end
    return done(f(...))
  end
end

local decode = vim.json.decode
vim.json.decode = function(body, ...)
  -- Only the diagnostics' message: a recent Neovim also asks for semantic tokens, folds...
  if type(body) == "string" and body:find('"textDocument/publishDiagnostics"', 1, true) then
    return timed("decode", decode)(body, ...)
  end
  return decode(body, ...)
end
local method = "textDocument/publishDiagnostics"
vim.lsp.handlers[method] = timed("handler", vim.lsp.handlers[method])
local set = timed("set", vim.diagnostic.set)
vim.diagnostic.set = function(...)
  in_set = true
  local function done(...)
    in_set = false
    return ...
  end
  return done(set(...))
end
for _, name in ipairs({ "signs", "underline", "virtual_text" }) do
  local h = vim.diagnostic.handlers[name]
  if h then
    h.show = timed(name, h.show)
    h.hide = timed(name, h.hide)
  end
end
-- Those vim.diagnostic.set fires (a recent client also fires LspNotify when it sends a change).
local exec_autocmds = vim.api.nvim_exec_autocmds
local timed_autocmds = timed("autocmd", exec_autocmds)
vim.api.nvim_exec_autocmds = function(...)
  return (in_set and timed_autocmds or exec_autocmds)(...)
end

hapee_phases = {
  -- Forgets the previous edit's times.
  start = function()
    spent, at, cpu = {}, {}, 0
    cpu0 = os.clock()
  end,
  -- Called as soon as the buffer changed.
  changed = function()
    cpu1 = os.clock()
  end,
  -- The phases of the edit that started at `t0` and changed the buffer until `t1` (hrtime).
  take = function(t0, t1)
    local ms = function(ns) return (ns or 0) / 1e6 end
    local p = {
      change = ms(t1 - t0),
      wait = ms((at["decode.start"] or t1) - t1),
      decode = ms(spent.decode),
      queue = ms((at["handler.start"] or 0) - (at["decode.end"] or 0)),
      convert = ms((spent.handler or 0) - (spent.set or 0)),
      autocmd = ms(spent.autocmd),
      cpu = (cpu1 - cpu0 + cpu) * 1e3,
    }
    local display = 0
    for _, name in ipairs({ "signs", "underline", "virtual_text" }) do
      p[name] = ms(spent[name])
      display = display + (spent[name] or 0)
    end
    p.store = ms((spent.set or 0) - display - (spent.autocmd or 0))
    return p
  end,
}
