-- warn.lua - WARN only logs and the lookup goes on as if nothing matched:
-- CONTINUE where nothing else decides, the lower rule's answer where one
-- does.  The log lines are checked by miltertest.sh.
local loaded, T = pcall(function() return dofile(assert(lib, "-D lib=PATH missing")) end)
if not loaded then mt.echo("MT-ERROR cannot load the helper: " .. tostring(T)) return end

T.main(function()
	local C, Y = SMFIR_CONTINUE, SMFIR_REPLYCODE
	local conn = T.session("mail.example.net", "192.0.2.7")

	T.reply(T.mail(conn, "<someone@warned.example>"), C,
	        "WARN sender: MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C,
	        "WARN sender: carol continues")
	T.reply(T.rcpt(conn, "<watch@example.com>"), C,
	        "WARN sender and recipient: watch continues")
	T.reply(T.eom(conn), C, "WARN: end of message continues")
	T.ok(not mt.eom_check(conn, MT_QUARANTINE) and
	     not T.deleted_any(conn, "watch@example.com"),
	     "WARN: no quarantine, no recipient deleted")

	T.reply(T.mail(conn, "<x@spammer.example>"), C,
	        "WARN then REJECT: MAIL continues")
	T.reply(T.rcpt(conn, "<watch@example.com>"), Y,
	        "WARN then REJECT: the sender's REJECT below the recipient's WARN answers")
	T.quit(conn)
end)
