-- rcpt.lua - one message per connection, each recipient's reply checked:
-- the general-purpose script of miltertest.sh for rules it sets itself.
--   -D from=SENDER
--   -D rcpts="ADDR=WANT ADDR=WANT ..."   WANT: continue, replycode, ...
--   -D eom=WANT                          (optional) the end-of-message reply
--   -D messages=N                        (optional, default 1) repeat, each
--                                        on a new connection
--   -D tag=TEXT                          prefix of the test descriptions
local loaded, T = pcall(function() return dofile(assert(lib, "-D lib=PATH missing")) end)
if not loaded then mt.echo("MT-ERROR cannot load the helper: " .. tostring(T)) return end

local wants = {
	continue = SMFIR_CONTINUE, replycode = SMFIR_REPLYCODE,
	reject = SMFIR_REJECT, tempfail = SMFIR_TEMPFAIL,
	accept = SMFIR_ACCEPT, discard = SMFIR_DISCARD,
}

local function want_of(w)
	local r = wants[w]
	if r == nil then
		error("unknown reply name " .. tostring(w))
	end
	return r
end

T.main(function()
	local tag = T.param("tag", "rcpt")
	local from = T.param("from")
	local eom = T.param("eom", "")
	local n = tonumber(T.param("messages", "1"))
	local list = {}

	for addr, w in T.param("rcpts"):gmatch("(%S+)=(%S+)") do
		list[#list + 1] = {addr, want_of(w), w}
	end
	for i = 1, n do
		local m = n > 1 and string.format("%s #%d", tag, i) or tag
		local conn, rc, rh = T.session("mail.example.net", "192.0.2.7")
		T.reply(rc, SMFIR_CONTINUE, m .. ": CONNECT continues")
		T.reply(rh, SMFIR_CONTINUE, m .. ": HELO continues")
		T.reply(T.mail(conn, from), SMFIR_CONTINUE, m .. ": MAIL continues")
		for _, r in ipairs(list) do
			T.reply(T.rcpt(conn, r[1]), r[2],
			        m .. ": RCPT " .. r[1] .. " is " .. r[3])
		end
		if eom ~= "" then
			T.reply(T.eom(conn), want_of(eom),
			        m .. ": end of message is " .. eom)
		end
		T.quit(conn)
	end
end)
