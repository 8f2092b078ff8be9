-- testmode.lua - mode = test (with delay_checks = no, so that every stage
-- is looked up): everything continues, DISCARD and HOLD do nothing, and a
-- broken rule does not tempfail; miltertest.sh checks that each would-be
-- decision is logged.
local loaded, T = pcall(function() return dofile(assert(lib, "-D lib=PATH missing")) end)
if not loaded then mt.echo("MT-ERROR cannot load the helper: " .. tostring(T)) return end

T.main(function()
	local C = SMFIR_CONTINUE
	local conn, rc, rh = T.session("host.blocked.example", "192.0.2.66",
	                               "bad.helo.example")

	T.reply(rc, C, "test mode: blocked client's CONNECT continues")
	T.reply(rh, C, "test mode: bad HELO continues")
	T.reply(T.mail(conn, "<x@spammer.example>"), C,
	        "test mode: blocked sender's MAIL continues")
	T.reply(T.rcpt(conn, "<bob@example.com>"), C,
	        "test mode: bob (552 rule) continues")
	T.reply(T.rcpt(conn, "<dis@example.com>"), C,
	        "test mode: dis (DISCARD rule) continues")
	T.reply(T.rcpt(conn, "<broken@example.com>"), C,
	        "test mode: broken rule continues")
	T.reply(T.eom(conn), C, "test mode: end of message continues")
	T.ok(not T.deleted_any(conn, "dis@example.com"),
	     "test mode: DISCARD deletes no recipient")
	T.reply(T.mail(conn, "<who@hold.example>"), C,
	        "test mode: HOLD sender's MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C,
	        "test mode: carol continues")
	T.reply(T.eom(conn), C, "test mode: HOLD message continues")
	T.ok(not mt.eom_check(conn, MT_QUARANTINE),
	     "test mode: HOLD quarantines nothing")
	T.quit(conn)
end)
