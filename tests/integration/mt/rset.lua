-- rset.lua - a transaction ended by RSET (SMFIC_ABORT) or by its end of
-- message leaves nothing behind: the next MAIL on the same connection
-- starts clean (no recipient DISCARD, whole-message DISCARD or HOLD of the
-- earlier transaction leaks into the later one's end of message).
local loaded, T = pcall(function() return dofile(assert(lib, "-D lib=PATH missing")) end)
if not loaded then mt.echo("MT-ERROR cannot load the helper: " .. tostring(T)) return end

T.main(function()
	local C = SMFIR_CONTINUE
	local conn = T.session("mail.example.net", "192.0.2.7")

	-- 1. Every recipient discarded, then RSET.
	T.reply(T.mail(conn, "<alice@example.org>"), C, "RSET 1: MAIL continues")
	T.reply(T.rcpt(conn, "<dis@example.com>"), C, "RSET 1: dis continues")
	T.abort(conn)
	T.reply(T.mail(conn, "<alice@example.org>"), C, "RSET 1: second MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C, "RSET 1: carol continues")
	T.reply(T.eom(conn), C,
	        "RSET 1: end of message continues (the discard did not leak)")
	T.ok(not T.deleted_any(conn, "dis@example.com") and
	     not T.deleted_any(conn, "carol@example.com"),
	     "RSET 1: no recipient deleted")

	-- 2. A recipient DISCARD beside a kept recipient, then RSET.
	T.reply(T.mail(conn, "<alice@example.org>"), C, "RSET 2: MAIL continues")
	T.reply(T.rcpt(conn, "<dis@example.com>"), C, "RSET 2: dis continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C, "RSET 2: carol continues")
	T.abort(conn)
	T.reply(T.mail(conn, "<alice@example.org>"), C, "RSET 2: second MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C, "RSET 2: carol continues again")
	T.reply(T.rcpt(conn, "<dave@example.com>"), C, "RSET 2: dave continues")
	T.reply(T.eom(conn), C, "RSET 2: end of message continues")
	T.ok(not T.deleted_any(conn, "dis@example.com"),
	     "RSET 2: dis@example.com of the aborted transaction not deleted")

	-- 3. A whole-message DISCARD (sender rule), then RSET.
	T.reply(T.mail(conn, "<junk@discard.example>"), C, "RSET 3: MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C, "RSET 3: carol continues")
	T.abort(conn)
	T.reply(T.mail(conn, "<alice@example.org>"), C, "RSET 3: second MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C, "RSET 3: carol continues again")
	T.reply(T.eom(conn), C,
	        "RSET 3: end of message continues (the sender DISCARD did not leak)")

	-- 4. A HOLD, then RSET.
	T.reply(T.mail(conn, "<who@hold.example>"), C, "RSET 4: MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C, "RSET 4: carol continues")
	T.abort(conn)
	T.reply(T.mail(conn, "<alice@example.org>"), C, "RSET 4: second MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C, "RSET 4: carol continues again")
	T.reply(T.eom(conn), C, "RSET 4: end of message continues")
	T.ok(not mt.eom_check(conn, MT_QUARANTINE),
	     "RSET 4: the aborted transaction's HOLD did not leak")

	-- 5. A delivered message with a recipient DISCARD, then another one.
	T.reply(T.mail(conn, "<alice@example.org>"), C, "next 5: MAIL continues")
	T.reply(T.rcpt(conn, "<dis@example.com>"), C, "next 5: dis continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C, "next 5: carol continues")
	T.reply(T.eom(conn), C, "next 5: end of message continues")
	T.ok(T.deleted(conn, "dis@example.com"), "next 5: dis deleted")
	T.reply(T.mail(conn, "<alice@example.org>"), C, "next 5: second MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C, "next 5: carol continues again")
	T.reply(T.eom(conn), C, "next 5: second end of message continues")
	T.ok(not T.deleted_any(conn, "dis@example.com") and
	     not T.deleted_any(conn, "carol@example.com"),
	     "next 5: second message deletes no recipient")
	T.quit(conn)
end)
