-- Driven by tests/server.rs: Neovim's built-in LSP client (0.7 API) attaches
-- `temper server` to the file given on the command line, waits for its
-- diagnostic, applies the preferred code action, writes the buffer and
-- checks that the diagnostic is gone. Progress goes to $TEMPER_LOG; any
-- failure exits non-zero.

local log_file = assert(io.open(os.getenv("TEMPER_LOG"), "w"))
local function log(text)
  log_file:write(text .. "\n")
  log_file:flush()
end
local function fail(text)
  log("error: " .. text)
  vim.cmd("cquit 3")
end

local ok, err = pcall(function()
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "temper",
    cmd = { os.getenv("TEMPER_BIN"), "server" },
    root_dir = os.getenv("TEMPER_ROOT"),
  })
  if not client_id then
    return fail("start_client failed")
  end
  vim.lsp.buf_attach_client(bufnr, client_id)

  if not vim.wait(60000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50) then
    return fail("no diagnostics from temper")
  end
  local diagnostics = vim.diagnostic.get(bufnr)
  local first = diagnostics[1]
  local code = first.code or (first.user_data and first.user_data.lsp and first.user_data.lsp.code)
  log(string.format("diagnostics: %d %s", #diagnostics, tostring(code)))

  local client = vim.lsp.get_client_by_id(client_id)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = {
      start = { line = first.lnum, character = first.col },
      ["end"] = { line = first.end_lnum, character = first.end_col },
    },
    context = { diagnostics = {} },
  }
  local response = client.request_sync("textDocument/codeAction", params, 60000, bufnr)
  if not response or response.err or not response.result then
    return fail("code action request failed: " .. vim.inspect(response))
  end
  local chosen
  for _, action in ipairs(response.result) do
    if action.isPreferred then
      chosen = action
      break
    end
  end
  if not chosen then
    return fail("no preferred code action: " .. vim.inspect(response.result))
  end
  log("applying: " .. chosen.title)
  vim.lsp.util.apply_workspace_edit(chosen.edit, client.offset_encoding)
  vim.cmd("write")

  -- The change reaches the server as didChange; its new diagnostics are empty.
  if not vim.wait(60000, function() return #vim.diagnostic.get(bufnr) == 0 end, 50) then
    return fail("diagnostics did not clear after the fix")
  end
  log("after fix: 0 diagnostics")
  vim.lsp.stop_client(client_id)
  vim.wait(5000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
end)
if not ok then
  fail(tostring(err))
end
log_file:close()
vim.cmd("qall!")
