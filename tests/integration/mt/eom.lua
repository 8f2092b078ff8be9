-- eom.lua - DISCARD and HOLD are carried out at end of message: a
-- recipient DISCARD deletes that recipient (smfi_delrcpt; the address is
-- sent without angle brackets), a DISCARD of the whole message (a sender
-- rule, or every accepted recipient discarded) is SMFIR_DISCARD, and HOLD
-- quarantines the message with the rule's text as the reason.
local loaded, T = pcall(function() return dofile(assert(lib, "-D lib=PATH missing")) end)
if not loaded then mt.echo("MT-ERROR cannot load the helper: " .. tostring(T)) return end

T.main(function()
	local C, Y = SMFIR_CONTINUE, SMFIR_REPLYCODE
	local conn = T.session("mail.example.net", "192.0.2.7")

	-- One recipient discarded, one kept.
	T.reply(T.mail(conn, "<alice@example.org>"), C, "rcpt DISCARD: MAIL continues")
	T.reply(T.rcpt(conn, "<dis@example.com>"), C,
	        "rcpt DISCARD: the discarded recipient continues at RCPT")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C,
	        "rcpt DISCARD: carol continues")
	T.reply(T.eom(conn), C, "rcpt DISCARD: end of message continues")
	T.ok(T.deleted(conn, "dis@example.com"),
	     "rcpt DISCARD: dis@example.com deleted (bare address)")
	T.ok(not T.deleted(conn, "<dis@example.com>"),
	     "rcpt DISCARD: not deleted in the <dis@example.com> form")
	T.ok(not T.deleted_any(conn, "carol@example.com"),
	     "rcpt DISCARD: carol not deleted")
	T.ok(not mt.eom_check(conn, MT_QUARANTINE),
	     "rcpt DISCARD: no quarantine")

	-- The recipient given without brackets is deleted in the same form.
	T.reply(T.mail(conn, "alice@example.org"), C, "bare DISCARD: MAIL continues")
	T.reply(T.rcpt(conn, "Dis@Example.com"), C, "bare DISCARD: RCPT continues")
	T.reply(T.rcpt(conn, "carol@example.com"), C, "bare DISCARD: carol continues")
	T.reply(T.eom(conn), C, "bare DISCARD: end of message continues")
	T.ok(T.deleted(conn, "Dis@Example.com"),
	     "bare DISCARD: Dis@Example.com deleted as the client wrote it")

	-- Every accepted recipient discarded: the whole message.  A rejected
	-- recipient does not count as accepted.
	T.reply(T.mail(conn, "<alice@example.org>"), C, "all DISCARD: MAIL continues")
	T.reply(T.rcpt(conn, "<dis@example.com>"), C, "all DISCARD: dis continues")
	T.reply(T.rcpt(conn, "<bob@example.com>"), Y, "all DISCARD: bob rejected")
	T.reply(T.rcpt(conn, "<dis2@example.com>"), C, "all DISCARD: dis2 continues")
	T.reply(T.eom(conn), SMFIR_DISCARD,
	        "all DISCARD: end of message discards the whole message")

	-- A sender DISCARD: the whole message.
	T.reply(T.mail(conn, "<junk@discard.example>"), C,
	        "sender DISCARD: MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C,
	        "sender DISCARD: RCPT continues")
	T.reply(T.eom(conn), SMFIR_DISCARD,
	        "sender DISCARD: end of message is SMFIR_DISCARD")

	-- HOLD with a reason, from a sender rule.
	T.reply(T.mail(conn, "<who@hold.example>"), C, "sender HOLD: MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C, "sender HOLD: RCPT continues")
	T.reply(T.eom(conn), C, "sender HOLD: end of message continues")
	T.ok(mt.eom_check(conn, MT_QUARANTINE, "suspicious sender"),
	     "sender HOLD: quarantined with the reason 'suspicious sender'")

	-- HOLD from a recipient rule holds the whole message; a HOLD without
	-- text still quarantines.
	T.reply(T.mail(conn, "<alice@example.org>"), C, "rcpt HOLD: MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C, "rcpt HOLD: carol continues")
	T.reply(T.rcpt(conn, "<held@example.com>"), C, "rcpt HOLD: held continues")
	T.reply(T.eom(conn), C, "rcpt HOLD: end of message continues")
	T.ok(mt.eom_check(conn, MT_QUARANTINE),
	     "rcpt HOLD (no text): message quarantined")
	T.ok(not T.deleted_any(conn, "held@example.com"),
	     "rcpt HOLD: held@example.com not deleted")

	-- A plain message afterwards: nothing carried over.
	T.reply(T.mail(conn, "<alice@example.org>"), C, "plain: MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C, "plain: RCPT continues")
	T.reply(T.eom(conn), C, "plain: end of message continues")
	T.ok(not mt.eom_check(conn, MT_QUARANTINE),
	     "plain: no quarantine left over from the HOLD")
	T.quit(conn)
end)
