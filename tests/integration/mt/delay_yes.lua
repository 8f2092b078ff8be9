-- delay_yes.lua - delay_checks = yes: nothing is decided before RCPT, even
-- for a client, HELO or sender rule; each recipient gets its own answer; an
-- accepted recipient is CONTINUE (SMFIS_ACCEPT would accept the whole
-- message and hide the later recipients) and later recipients are still
-- checked.  The rules are set by miltertest.sh, which also checks the log
-- lines that carry the reply texts.
local loaded, T = pcall(function() return dofile(assert(lib, "-D lib=PATH missing")) end)
if not loaded then mt.echo("MT-ERROR cannot load the helper: " .. tostring(T)) return end

T.main(function()
	local C, Y = SMFIR_CONTINUE, SMFIR_REPLYCODE
	local conn, rc, rh

	-- A clean client: replies only where a recipient rule says so.
	conn, rc, rh = T.session("mail.example.net", "192.0.2.7")
	T.reply(rc, C, "clean client: CONNECT continues")
	T.reply(rh, C, "clean client: HELO continues")
	T.reply(T.mail(conn, "<alice@example.org>", "SIZE=1234"), C,
	        "clean client: MAIL continues")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C,
	        "clean client: carol (no rule) continues")
	T.reply(T.rcpt(conn, "<bob@example.com>"), Y,
	        "clean client: bob (552 rule) gets a reply code")
	T.reply(T.rcpt(conn, "<abuse@example.com>"), C,
	        "clean client: abuse (OK rule) continues, not ACCEPT")
	T.reply(T.rcpt(conn, "<later@example.com>"), Y,
	        "clean client: later (DEFER rule) gets a reply code")
	T.reply(T.rcpt(conn, "<pct@example.com>"), Y,
	        "clean client: pct (REJECT with %) gets a reply code")
	T.reply(T.rcpt(conn, "<Bob+Tag@Example.COM>"), Y,
	        "clean client: Bob+Tag@Example.COM folds to bob's rule")
	T.reply(T.eom(conn), C, "clean client: end of message continues")
	T.quit(conn)

	-- A blocked client: CONNECT, HELO and MAIL still continue.
	conn, rc, rh = T.session("host.blocked.example", "192.0.2.66")
	T.reply(rc, C, "blocked client: CONNECT continues (delayed)")
	T.reply(rh, C, "blocked client: HELO continues (delayed)")
	T.reply(T.mail(conn, "<alice@example.org>"), C,
	        "blocked client: MAIL continues (delayed)")
	T.reply(T.rcpt(conn, "<abuse@example.com>"), C,
	        "blocked client: abuse (recipient OK) beats the client rule")
	T.reply(T.rcpt(conn, "<carol@example.com>"), Y,
	        "blocked client: carol after an accepted recipient is still checked")
	T.reply(T.rcpt(conn, "<bob@example.com>"), Y,
	        "blocked client: bob gets a reply code")
	T.reply(T.eom(conn), C, "blocked client: end of message continues")
	T.quit(conn)

	-- A HELO rule.
	conn, rc, rh = T.session("mail.example.net", "192.0.2.7",
	                         "bad.helo.example")
	T.reply(rc, C, "bad HELO: CONNECT continues")
	T.reply(rh, C, "bad HELO: HELO continues (delayed)")
	T.reply(T.mail(conn, "<alice@example.org>"), C,
	        "bad HELO: MAIL continues (delayed)")
	T.reply(T.rcpt(conn, "<carol@example.com>"), Y,
	        "bad HELO: carol gets a reply code at RCPT")
	T.reply(T.rcpt(conn, "<abuse@example.com>"), C,
	        "bad HELO: abuse (recipient OK) continues")
	T.quit(conn)

	-- A sender rule, then a sender OK that a recipient 552 still beats.
	conn, rc, rh = T.session("mail.example.net", "192.0.2.7")
	T.reply(T.mail(conn, "<x@spammer.example>"), C,
	        "blocked sender: MAIL continues (delayed)")
	T.reply(T.rcpt(conn, "<carol@example.com>"), Y,
	        "blocked sender: carol gets a reply code at RCPT")
	T.reply(T.rcpt(conn, "<abuse@example.com>"), C,
	        "blocked sender: abuse (recipient OK) continues")
	T.abort(conn)
	T.reply(T.mail(conn, "<pal@friend.example>"), C,
	        "OK sender: MAIL continues")
	T.reply(T.rcpt(conn, "<bob@example.com>"), Y,
	        "OK sender: bob's 552 still answers")
	T.reply(T.rcpt(conn, "<carol@example.com>"), C,
	        "OK sender: carol continues")
	T.reply(T.eom(conn), C, "OK sender: end of message continues")
	T.quit(conn)
end)
