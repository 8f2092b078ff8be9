-- tests/integration/mt/lib.lua - the helper every miltertest script of
-- tests/integration/miltertest.sh loads (OpenDKIM's miltertest scripts,
-- minus the copy-paste).
--
-- A script starts with
--
--   local T = dofile(lib)
--   T.main(function() ... end)
--
-- where `lib` and `socket` are globals that miltertest.sh defines with
-- `miltertest -D lib=PATH -D socket=unix:PATH`; other -D values are
-- script parameters (T.param reads them).
--
-- Output, read by miltertest.sh and turned into harness TAP lines:
--   ok - DESC                a passed check
--   not ok - DESC            a failed check, followed by "# ..." lines
--   # TEXT                   a diagnostic
--   MT-END                   the script ran to its end
--   MT-ERROR TEXT            a Lua error stopped it (miltertest itself
--                            exits 1 without a word on one: T.main catches
--                            it with pcall and prints it)
-- miltertest's own "connected", "reply" chatter needs -v, which we never
-- give, so these are the only lines.
--
-- The mt.* protocol calls return nil or an error string (a dead milter, a
-- timeout) rather than raising one; the wrappers here raise it, so that a
-- milter that died mid-script ends the script with MT-ERROR and never
-- passes a check by accident.

local T = {}

local reply_names = {}
for _, n in ipairs({"SMFIR_CONTINUE", "SMFIR_ACCEPT", "SMFIR_REJECT",
                    "SMFIR_TEMPFAIL", "SMFIR_DISCARD", "SMFIR_REPLYCODE",
                    "SMFIR_SKIP"}) do
	if _G[n] ~= nil then
		reply_names[_G[n]] = n
	end
end

-- T.name(reply) - "SMFIR_REPLYCODE ('y')" for a reply character
function T.name(r)
	if r == nil then
		return "nil"
	end
	local c = (type(r) == "number" and r > 0 and r < 256)
	    and string.char(r) or "?"
	if r == 0 then
		c = "\\0"
	end
	return string.format("%s ('%s')", reply_names[r] or "unknown", c)
end

-- T.param(name, default) - a -D value of miltertest.sh, or default
function T.param(name, default)
	local v = _G[name]
	if v == nil then
		if default == nil then
			error("missing parameter -D " .. name .. "=...")
		end
		return default
	end
	return v
end

local function emit(line)
	mt.echo(line)
end

local function diag_lines(...)
	for _, d in ipairs({...}) do
		for l in (tostring(d) .. "\n"):gmatch("(.-)\n") do
			emit("# " .. l)
		end
	end
end

T.failed = 0
T.count = 0

-- T.ok(cond, desc, diag...) - one check
function T.ok(cond, desc, ...)
	T.count = T.count + 1
	if cond then
		emit("ok - " .. desc)
	else
		T.failed = T.failed + 1
		emit("not ok - " .. desc)
		diag_lines(...)
	end
	return cond
end

-- T.is(got, want, desc) - exact comparison of two values
function T.is(got, want, desc)
	return T.ok(got == want, desc, "   got: " .. tostring(got),
	            "  want: " .. tostring(want))
end

-- T.reply(got, want, desc) - a reply character, named in the diagnostic
function T.reply(got, want, desc)
	return T.ok(got == want, desc, "   got: " .. T.name(got),
	            "  want: " .. T.name(want))
end

-- T.diag(text) - a diagnostic line
function T.diag(text)
	diag_lines(text)
end

-- check - raise the error string an mt.* call returned
local function check(what, e)
	if e ~= nil then
		error(what .. ": " .. tostring(e), 3)
	end
end

-- T.timeout - the read timeout of every reply (miltertest.sh passes a
-- longer one under valgrind)
mt.set_timeout(tonumber(T.param("read_timeout", "10")))

-- T.connect() - a new connection to the milter (a few retries: the socket
-- may be bound a moment before smfi_main accepts)
function T.connect()
	local sock = T.param("socket")
	local conn = mt.connect(sock, 20, 0.1)
	if conn == nil then
		error("mt.connect(" .. sock .. ") failed", 2)
	end
	return conn
end

-- The protocol steps; each returns the milter's reply character.
function T.negotiate(conn)
	check("mt.negotiate", mt.negotiate(conn, nil, nil, nil))
	return mt.getreply(conn)
end

function T.conninfo(conn, host, ip)
	check("mt.conninfo", mt.conninfo(conn, host, ip))
	return mt.getreply(conn)
end

function T.helo(conn, name)
	check("mt.helo", mt.helo(conn, name))
	return mt.getreply(conn)
end

function T.mail(conn, from, ...)
	check("mt.mailfrom", mt.mailfrom(conn, from, ...))
	return mt.getreply(conn)
end

function T.rcpt(conn, to, ...)
	check("mt.rcptto", mt.rcptto(conn, to, ...))
	return mt.getreply(conn)
end

function T.eom(conn)
	check("mt.eom", mt.eom(conn))
	return mt.getreply(conn)
end

function T.abort(conn)
	check("mt.abort", mt.abort(conn))
end

function T.macro(conn, stage, ...)
	check("mt.macro", mt.macro(conn, stage, ...))
end

-- T.quit(conn[, polite]) - QUIT and close (polite false: just close)
function T.quit(conn, polite)
	if polite == nil then
		mt.disconnect(conn)
	else
		mt.disconnect(conn, polite)
	end
end

-- T.session(host, ip, helo) - connect, conninfo, helo; returns the
-- connection and the replies to CONNECT and HELO
function T.session(host, ip, helo)
	local conn = T.connect()
	local rc = T.conninfo(conn, host, ip)
	local rh = T.helo(conn, helo or host)
	return conn, rc, rh
end

-- T.deleted(conn, addr) - whether the end of message deleted recipient
-- addr, exactly in this form
function T.deleted(conn, addr)
	return mt.eom_check(conn, MT_RCPTDELETE, addr)
end

-- T.deleted_any(conn, addr) - whether it deleted addr ("a@b") in either
-- form, bare or in angle brackets: for checks that nothing was deleted
function T.deleted_any(conn, addr)
	return mt.eom_check(conn, MT_RCPTDELETE, addr) or
	    mt.eom_check(conn, MT_RCPTDELETE, "<" .. addr .. ">")
end

-- T.main(body) - run body under pcall; print MT-END or MT-ERROR
function T.main(body)
	local ok, err = pcall(body)
	if ok then
		emit("MT-END")
	else
		emit("MT-ERROR " .. tostring(err))
	end
end

return T
