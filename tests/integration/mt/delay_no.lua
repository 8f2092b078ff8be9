-- delay_no.lua - delay_checks = no: each table answers at its own stage:
-- client at CONNECT, helo at HELO, sender at MAIL, recipient at RCPT.  A
-- client DISCARD at CONNECT drops every message of that connection.
local loaded, T = pcall(function() return dofile(assert(lib, "-D lib=PATH missing")) end)
if not loaded then mt.echo("MT-ERROR cannot load the helper: " .. tostring(T)) return end

T.main(function()
	local C, Y = SMFIR_CONTINUE, SMFIR_REPLYCODE
	local conn, rc, rh

	-- Client rule: answered at CONNECT.
	conn = T.connect()
	T.reply(T.conninfo(conn, "host.blocked.example", "192.0.2.66"), Y,
	        "client rule: CONNECT gets a reply code")
	T.quit(conn)

	-- The same client without a verified name, as Sendmail passes it.
	conn = T.connect()
	T.reply(T.conninfo(conn, "[192.0.2.66]", "192.0.2.66"), Y,
	        "client rule, no client name: CONNECT gets a reply code")
	T.quit(conn)

	-- HELO rule: answered at HELO.
	conn = T.connect()
	T.reply(T.conninfo(conn, "mail.example.net", "192.0.2.7"), C,
	        "HELO rule: CONNECT continues")
	T.reply(T.helo(conn, "bad.helo.example"), Y,
	        "HELO rule: HELO gets a reply code")
	T.quit(conn)

	-- Sender rule: answered at MAIL; then a recipient rule at RCPT after
	-- RSET on the same connection.
	conn, rc, rh = T.session("mail.example.net", "192.0.2.7")
	T.reply(rc, C, "sender rule: CONNECT continues")
	T.reply(rh, C, "sender rule: HELO continues")
	T.reply(T.mail(conn, "<x@spammer.example>"), Y,
	        "sender rule: MAIL gets a reply code")
	T.abort(conn)
	T.reply(T.mail(conn, "<alice@example.org>"), C,
	        "recipient rule: MAIL of a clean sender continues")
	T.reply(T.rcpt(conn, "<bob@example.com>"), Y,
	        "recipient rule: bob gets a reply code at RCPT")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C,
	        "recipient rule: carol continues")
	T.reply(T.eom(conn), C, "recipient rule: end of message continues")
	T.quit(conn)

	-- Recipient OK at RCPT: CONTINUE, and later recipients are checked.
	conn, rc, rh = T.session("mail.example.net", "192.0.2.7")
	T.reply(T.mail(conn, "<alice@example.org>"), C,
	        "recipient OK: MAIL continues")
	T.reply(T.rcpt(conn, "<abuse@example.com>"), C,
	        "recipient OK: abuse continues, not ACCEPT")
	T.reply(T.rcpt(conn, "<bob@example.com>"), Y,
	        "recipient OK: bob after it is still checked")
	T.quit(conn)

	-- Client DISCARD at CONNECT: every message of the connection.
	conn, rc, rh = T.session("relay.discard.example", "198.51.100.9")
	T.reply(rc, C, "client DISCARD: CONNECT continues")
	T.reply(rh, C, "client DISCARD: HELO continues")
	T.reply(T.mail(conn, "<alice@example.org>"), C,
	        "client DISCARD: MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C,
	        "client DISCARD: RCPT continues")
	T.reply(T.eom(conn), SMFIR_DISCARD,
	        "client DISCARD: first message discarded at end of message")
	T.reply(T.mail(conn, "<alice@example.org>"), C,
	        "client DISCARD: second MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C,
	        "client DISCARD: second RCPT continues")
	T.reply(T.eom(conn), SMFIR_DISCARD,
	        "client DISCARD: second message discarded too")
	T.quit(conn)
end)
