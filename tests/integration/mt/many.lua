-- many.lua - N sequential connections, each with one transaction (a
-- rejected and an accepted recipient, end of message).  One check for all
-- of them; the first wrong reply is shown.
--   -D count=N
local loaded, T = pcall(function() return dofile(assert(lib, "-D lib=PATH missing")) end)
if not loaded then mt.echo("MT-ERROR cannot load the helper: " .. tostring(T)) return end

T.main(function()
	local C, Y = SMFIR_CONTINUE, SMFIR_REPLYCODE
	local n = tonumber(T.param("count"))
	local good, first = 0, nil

	for i = 1, n do
		local conn, rc, rh = T.session("mail.example.net", "192.0.2.7")
		local got = {rc, rh, T.mail(conn, "<alice@example.org>"),
		             T.rcpt(conn, "<bob@example.com>"),
		             T.rcpt(conn, "<carol@example.com>"), T.eom(conn)}
		local want = {C, C, C, Y, C, C}
		local same = true
		for k = 1, #want do
			if got[k] ~= want[k] then
				same = false
				if first == nil then
					first = string.format(
					    "connection %d, step %d: got %s, want %s",
					    i, k, T.name(got[k]), T.name(want[k]))
				end
			end
		end
		if same then
			good = good + 1
		end
		T.quit(conn)
	end
	T.is(good, n, string.format("%d connections: every reply as expected", n))
	if first ~= nil then
		T.diag(first)
	end
end)
