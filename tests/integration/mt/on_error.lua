-- on_error.lua - a store failure (Redis stopped by miltertest.sh) at RCPT:
-- with on_error = tempfail a reply code (451 4.3.0, checked in the log),
-- with on_error = accept CONTINUE.  delay_checks = yes, so CONNECT, HELO
-- and MAIL look nothing up and continue either way.
--   -D expect=tempfail|accept
local loaded, T = pcall(function() return dofile(assert(lib, "-D lib=PATH missing")) end)
if not loaded then mt.echo("MT-ERROR cannot load the helper: " .. tostring(T)) return end

T.main(function()
	local C, Y = SMFIR_CONTINUE, SMFIR_REPLYCODE
	local expect = T.param("expect")
	local want = expect == "accept" and C or Y
	local conn, rc, rh = T.session("mail.example.net", "192.0.2.7")

	T.reply(rc, C, "Redis down (" .. expect .. "): CONNECT continues")
	T.reply(rh, C, "Redis down (" .. expect .. "): HELO continues")
	T.reply(T.mail(conn, "<alice@example.org>"), C,
	        "Redis down (" .. expect .. "): MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), want,
	        "Redis down (" .. expect .. "): RCPT carol answered by on_error")
	T.reply(T.rcpt(conn, "<bob@example.com>"), want,
	        "Redis down (" .. expect .. "): RCPT bob answered by on_error too")
	if expect == "accept" then
		T.reply(T.eom(conn), C,
		        "Redis down (accept): end of message continues")
	end
	T.quit(conn)
end)
