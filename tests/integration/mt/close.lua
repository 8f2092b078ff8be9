-- close.lua - connections that end before a context exists or early:
-- mlfi_close (and mlfi_abort) with a NULL private pointer must not crash
-- the milter.  After each, a full transaction on a new connection must
-- still get its answers; miltertest.sh checks that the process lives.
local loaded, T = pcall(function() return dofile(assert(lib, "-D lib=PATH missing")) end)
if not loaded then mt.echo("MT-ERROR cannot load the helper: " .. tostring(T)) return end

local C, Y = SMFIR_CONTINUE, SMFIR_REPLYCODE

-- alive(what) - a full transaction still works
local function alive(what)
	local conn, rc, rh = T.session("mail.example.net", "192.0.2.7")
	local rm = T.mail(conn, "<alice@example.org>")
	local rb = T.rcpt(conn, "<bob@example.com>")
	local rcar = T.rcpt(conn, "<carol@example.com>")
	local re = T.eom(conn)
	T.quit(conn)
	T.ok(rc == C and rh == C and rm == C and rb == Y and rcar == C and
	     re == C, "after " .. what .. ": the milter still answers",
	     string.format("CONNECT %s HELO %s MAIL %s bob %s carol %s EOM %s",
	                   T.name(rc), T.name(rh), T.name(rm), T.name(rb),
	                   T.name(rcar), T.name(re)))
end

T.main(function()
	local conn

	conn = T.connect()
	T.quit(conn)
	alive("QUIT before negotiation")

	conn = T.connect()
	T.quit(conn, false)
	alive("a close before negotiation")

	conn = T.connect()
	T.reply(T.negotiate(conn), SMFIC_OPTNEG or string.byte("O"),
	        "negotiation only: the milter negotiates")
	T.quit(conn)
	alive("negotiation then QUIT")

	conn = T.connect()
	T.negotiate(conn)
	T.quit(conn, false)
	alive("negotiation then a close")

	conn = T.connect()
	T.negotiate(conn)
	T.abort(conn)
	T.quit(conn)
	alive("negotiation, ABORT, QUIT")

	conn = T.connect()
	T.reply(T.conninfo(conn, "mail.example.net", "192.0.2.7"), C,
	        "connect only: CONNECT continues")
	T.quit(conn)
	alive("CONNECT then QUIT")

	conn = T.connect()
	T.conninfo(conn, "mail.example.net", "192.0.2.7")
	T.quit(conn, false)
	alive("CONNECT then a close")

	conn = T.session("mail.example.net", "192.0.2.7")
	T.mail(conn, "<alice@example.org>")
	T.rcpt(conn, "<dis@example.com>")
	T.quit(conn, false)
	alive("a close in the middle of a transaction")
end)
