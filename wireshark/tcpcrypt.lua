-- tcpcrypt.lua - a Wireshark/tshark dissector (Lua, Wireshark 4.0) that
-- names what tcpcrypt puts on the wire, on any port:
--   * the TCP-ENO option (RFC 8547, kind 69): SYN form with its global
--     suboption (a, b bits), TEPs (v bit, length bytes, data), and the
--     non-SYN form;
--   * the Init1 and Init2 messages (RFC 8548 4.1);
--   * each encryption frame's header: control byte (rekey), clen, the
--     ciphertext and the tag (RFC 8548 4.2).
-- It does not decrypt: Wireshark 4.0's Lua has no AEAD. To see the
-- plaintext, run tcpcrypt-decrypt CAPTURE KEYLOG OUT.pcap and open OUT.pcap
-- (tcpcrypt-wireshark(7)).
--
-- The wire formats are defined once, in libtcpcrypt; each constant below
-- names its definition there (tests/tools/test_wireshark.sh compares them).

local ENO_KIND = 69                    -- include/tcpcrypt/eno_abi.h TCPCRYPT_ENO_KIND
local ENO_GLOBAL_B = 0x01              -- libtcpcrypt/eno.h TC_ENO_GLOBAL_B
local ENO_GLOBAL_A = 0x02              -- libtcpcrypt/eno.h TC_ENO_GLOBAL_A
local INIT1_MAGIC = 0x15101a0e         -- libtcpcrypt/init_msg.h TC_INIT1_MAGIC
local INIT2_MAGIC = 0x097105e0         -- libtcpcrypt/init_msg.h TC_INIT2_MAGIC
local INIT_NONCELEN = 32               -- libtcpcrypt/init_msg.h TC_INIT_NONCELEN
local INIT_PUBLEN = 32                 -- libtcpcrypt/init_msg.h TC_INIT_PUBLEN
local INIT_MAX = 4096                  -- libtcpcrypt/session.h TC_INIT_MAX
local FRAME_HDR = 3                    -- libtcpcrypt/session.h TC_FRAME_HDR
local TAG_LEN = 16                     -- libtcpcrypt/session.h TC_TAG_LEN
local FRAME_CTL_REKEY = 0x01           -- libtcpcrypt/frame.h TC_FRAME_CTL_REKEY

local teps = {                         -- RFC 8548 7, Table 4
	[0x21] = "TCPCRYPT_ECDHE_P256", [0x22] = "TCPCRYPT_ECDHE_P521",
	[0x23] = "TCPCRYPT_ECDHE_Curve25519", [0x24] = "TCPCRYPT_ECDHE_Curve448",
}
local aeads = {                        -- RFC 8548 7, Table 5 (include/tcpcrypt/tcpcrypt.h)
	[0x0001] = "AEAD_AES_128_GCM", [0x0002] = "AEAD_AES_256_GCM",
	[0x0010] = "AEAD_CHACHA20_POLY1305",
}

------------------------------------------------------------------------
-- The TCP-ENO option, a dissector of the "tcp.option" table.

local eno = Proto("tcpcrypt.eno", "TCP-ENO option (RFC 8547)")
local ef = {
	len = ProtoField.uint8("tcpcrypt.eno.len", "Length", base.DEC),
	form = ProtoField.string("tcpcrypt.eno.form", "Form"),
	global = ProtoField.uint8("tcpcrypt.eno.global", "Global suboption", base.HEX),
	gb = ProtoField.bool("tcpcrypt.eno.global.b", "b (passive role)", 8, nil, ENO_GLOBAL_B),
	ga = ProtoField.bool("tcpcrypt.eno.global.a", "a (application aware)", 8, nil, ENO_GLOBAL_A),
	gz = ProtoField.uint8("tcpcrypt.eno.global.z", "z (reserved)", base.HEX, nil, 0x1c),
	sublen = ProtoField.uint8("tcpcrypt.eno.length_byte", "Length byte: data bytes - 1",
		base.DEC, nil, 0x1f),
	tep = ProtoField.uint8("tcpcrypt.eno.tep", "TEP", base.HEX, teps),
	tepbyte = ProtoField.uint8("tcpcrypt.eno.tep.byte", "Suboption byte", base.HEX),
	v = ProtoField.bool("tcpcrypt.eno.tep.v", "v (suboption data follows)", 8, nil, 0x80),
	data = ProtoField.bytes("tcpcrypt.eno.tep.data", "TEP data"),
	content = ProtoField.bytes("tcpcrypt.eno.content", "Content (ignored)"),
}
eno.fields = ef
local eno_bad = ProtoExpert.new("tcpcrypt.eno.malformed", "Malformed ENO option: encryption off",
	expert.group.MALFORMED, expert.severity.WARN)
eno.experts = { eno_bad }

local f_syn = Field.new("tcp.flags.syn")
local f_stream = Field.new("tcp.stream")

-- streams whose ENO options offer a tcpcrypt TEP, and where Init1 was seen
local eno_streams, init_seen = {}, {}

local tcpcrypt   -- the stream dissector, below

local function stream_id()
	local s = f_stream()
	return s and s.value
end

function eno.dissector(tvb, pinfo, tree)
	local n = tvb:len()
	if n < 2 or tvb(0, 1):uint() ~= ENO_KIND then return 0 end
	local olen = tvb(1, 1):uint()
	local t = tree:add(eno, tvb(0, n))
	t:add(ef.len, tvb(1, 1))
	local syn = f_syn()
	if not (syn and syn.value) then
		t:add(ef.form, "non-SYN form (ENO acknowledged)")
		if n > 2 then t:add(ef.content, tvb(2, n - 2)) end
		t:append_text(": non-SYN form")
		return n
	end
	t:add(ef.form, "SYN form")
	local i, have_global, names = 2, false, {}
	local last = olen < n and olen or n
	while i < last do
		local b = tvb(i, 1):uint()
		if b < 0x20 then
			local g = t:add(ef.global, tvb(i, 1))
			g:add(ef.gb, tvb(i, 1))
			g:add(ef.ga, tvb(i, 1))
			g:add(ef.gz, tvb(i, 1))
			if have_global then g:append_text(" (not the first: ignored)") end
			have_global = true
			names[#names + 1] = string.format("global 0x%02x", b)
			i = i + 1
		elseif b < 0x80 then
			local s = t:add(ef.tep, tvb(i, 1), b)
			s:add(ef.tepbyte, tvb(i, 1))
			s:add(ef.v, tvb(i, 1))
			names[#names + 1] = string.format("TEP 0x%02x", b)
			if teps[b] then eno_streams[stream_id() or -1] = true end
			i = i + 1
		else
			local dlen, start
			if b < 0xa0 then          -- length byte, then a TEP with v = 1
				dlen = bit32.band(b, 0x1f) + 1
				t:add(ef.sublen, tvb(i, 1))
				start = i + 1
				if start >= last or tvb(start, 1):uint() < 0xa0 or start + 1 + dlen > last then
					t:add_proto_expert_info(eno_bad, "length byte not followed by a TEP with that much data")
					break
				end
			else                      -- a TEP whose data runs to the end
				start = i
				dlen = last - i - 1
			end
			local id = bit32.band(tvb(start, 1):uint(), 0x7f)
			local s = t:add(ef.tep, tvb(start, 1), id)
			s:add(ef.tepbyte, tvb(start, 1))
			s:add(ef.v, tvb(start, 1))
			if dlen > 0 then s:add(ef.data, tvb(start + 1, dlen)) end
			names[#names + 1] = string.format("TEP 0x%02x (v=1, %d data bytes)", id, dlen)
			if teps[id] then eno_streams[stream_id() or -1] = true end
			i = start + 1 + dlen
		end
	end
	if #names == 0 then names[1] = "vacuous" end
	t:append_text(": " .. table.concat(names, ", "))
	-- frames on this connection go to the tcpcrypt dissector, whatever the port
	if eno_streams[stream_id() or -1] then pinfo.conversation = tcpcrypt end
	return n
end

DissectorTable.get("tcp.option"):add(ENO_KIND, eno)

------------------------------------------------------------------------
-- Init1, Init2 and frames in the TCP byte stream.

tcpcrypt = Proto("tcpcrypt", "tcpcrypt (RFC 8548)")
local f = {
	init1 = ProtoField.none("tcpcrypt.init1", "Init1"),
	init2 = ProtoField.none("tcpcrypt.init2", "Init2"),
	magic = ProtoField.uint32("tcpcrypt.init.magic", "Magic", base.HEX),
	mlen = ProtoField.uint32("tcpcrypt.init.len", "Message length", base.DEC),
	nciphers = ProtoField.uint8("tcpcrypt.init1.nciphers", "Number of AEADs", base.DEC),
	cipher = ProtoField.uint16("tcpcrypt.init1.aead", "AEAD offered", base.HEX, aeads),
	chosen = ProtoField.uint16("tcpcrypt.init2.aead", "AEAD chosen", base.HEX, aeads),
	n_a = ProtoField.bytes("tcpcrypt.init1.nonce", "N_A"),
	pub_a = ProtoField.bytes("tcpcrypt.init1.pub", "Pub_A"),
	n_b = ProtoField.bytes("tcpcrypt.init2.nonce", "N_B"),
	pub_b = ProtoField.bytes("tcpcrypt.init2.pub", "Pub_B"),
	extra = ProtoField.bytes("tcpcrypt.init.ignored", "Ignored bytes"),
	frame = ProtoField.none("tcpcrypt.frame", "Frame"),
	control = ProtoField.uint8("tcpcrypt.frame.control", "Control", base.HEX),
	rekey = ProtoField.bool("tcpcrypt.frame.rekey", "rekey", 8, nil, FRAME_CTL_REKEY),
	cres = ProtoField.uint8("tcpcrypt.frame.cres", "cres (reserved)", base.HEX, nil, 0xfe),
	clen = ProtoField.uint16("tcpcrypt.frame.clen", "Ciphertext length", base.DEC),
	ct = ProtoField.bytes("tcpcrypt.frame.ciphertext", "Encrypted flags and data"),
	tag = ProtoField.bytes("tcpcrypt.frame.tag", "Tag"),
}
tcpcrypt.fields = f
local not_captured = ProtoExpert.new("tcpcrypt.not_captured", "Not captured whole (snap length)",
	expert.group.UNDECODED, expert.severity.NOTE)
tcpcrypt.experts = { not_captured }

-- What starts at off: "init1", "init2" or "frame" and its length, or nil;
-- length -1 when more bytes are needed to tell.
local function classify(tvb, off, rem, sid)
	if rem < 4 then return "?", -1 end
	local w = tvb(off, 4):uint()
	if w == INIT1_MAGIC or w == INIT2_MAGIC then
		if rem < 8 then return "?", -1 end
		local m = tvb(off + 4, 4):uint()
		if m < 9 or m > INIT_MAX then return nil end
		return w == INIT1_MAGIC and "init1" or "init2", m
	end
	-- a frame: cres sent 0, clen >= flags + tag; only after Init1 in this stream
	local clen = tvb(off + 1, 2):uint()
	if not init_seen[sid] or bit32.band(tvb(off, 1):uint(), 0xfe) ~= 0 or clen < 1 + TAG_LEN then
		return nil
	end
	return "frame", FRAME_HDR + clen
end

-- Adds a field for [o, o + l) of tvb, or for what the capture holds of it.
local function add_part(t, field, tvb, o, l)
	local cap = tvb:len()
	if o >= cap then
		t:add_proto_expert_info(not_captured)
		return
	end
	if o + l > cap then
		t:add(field, tvb(o, cap - o)):add_proto_expert_info(not_captured)
		return
	end
	t:add(field, tvb(o, l))
end

local function dissect_init(kind, tvb, off, len, t)
	local it = t:add(kind == "init1" and f.init1 or f.init2, tvb(off, math.min(len, tvb:len() - off)))
	it:add(f.magic, tvb(off, 4))
	it:add(f.mlen, tvb(off + 4, 4))
	local o
	if kind == "init1" then
		local k = tvb:len() > off + 8 and tvb(off + 8, 1):uint() or 0
		add_part(it, f.nciphers, tvb, off + 8, 1)
		for j = 0, k - 1 do add_part(it, f.cipher, tvb, off + 9 + 2 * j, 2) end
		o = off + 9 + 2 * k
		add_part(it, f.n_a, tvb, o, INIT_NONCELEN)
		add_part(it, f.pub_a, tvb, o + INIT_NONCELEN, INIT_PUBLEN)
	else
		add_part(it, f.chosen, tvb, off + 8, 2)
		o = off + 10
		add_part(it, f.n_b, tvb, o, INIT_NONCELEN)
		add_part(it, f.pub_b, tvb, o + INIT_NONCELEN, INIT_PUBLEN)
	end
	o = o + INIT_NONCELEN + INIT_PUBLEN
	if off + len > o then add_part(it, f.extra, tvb, o, off + len - o) end
	return kind == "init1" and "Init1" or "Init2"
end

local function dissect_frame(tvb, off, len, t)
	local ft = t:add(f.frame, tvb(off, math.min(len, tvb:len() - off)))
	local c = ft:add(f.control, tvb(off, 1))
	c:add(f.rekey, tvb(off, 1))
	c:add(f.cres, tvb(off, 1))
	ft:add(f.clen, tvb(off + 1, 2))
	add_part(ft, f.ct, tvb, off + FRAME_HDR, len - FRAME_HDR - TAG_LEN)
	add_part(ft, f.tag, tvb, off + len - TAG_LEN, TAG_LEN)
	local rekey = bit32.band(tvb(off, 1):uint(), FRAME_CTL_REKEY) ~= 0
	ft:append_text(string.format(": %d bytes%s", len, rekey and ", rekey" or ""))
	return rekey and "Frame (rekey)" or "Frame"
end

function tcpcrypt.dissector(tvb, pinfo, tree)
	local total = tvb:reported_length_remaining()
	local sid = stream_id() or -1
	local off, names, t = 0, {}, nil
	while off < total do
		local kind, len = classify(tvb, off, total - off, sid)
		if kind == nil then
			if off == 0 then return 0 end   -- not ours: TCP tries other dissectors
			break
		end
		if len < 0 or off + len > total then
			pinfo.desegment_offset = off
			pinfo.desegment_len = len < 0 and DESEGMENT_ONE_MORE_SEGMENT or off + len - total
			break
		end
		if t == nil then t = tree:add(tcpcrypt, tvb(0, math.min(total, tvb:len()))) end
		if kind == "frame" then
			names[#names + 1] = dissect_frame(tvb, off, len, t)
		else
			if kind == "init1" then init_seen[sid] = true end
			names[#names + 1] = dissect_init(kind, tvb, off, len, t)
		end
		off = off + len
	end
	if #names > 0 then
		pinfo.cols.protocol = "tcpcrypt"
		pinfo.cols.info:append(" [tcpcrypt " .. table.concat(names, ", ") .. "]")
	end
	return total
end

-- Without the handshake in the capture: a stream that starts with an Init
-- message is tcpcrypt, on any port.
local function heuristic(tvb, pinfo, tree)
	if tvb:len() < 8 then return false end
	local w = tvb(0, 4):uint()
	if w ~= INIT1_MAGIC and w ~= INIT2_MAGIC then return false end
	pinfo.conversation = tcpcrypt
	tcpcrypt.dissector(tvb, pinfo, tree)
	return true
end
tcpcrypt:register_heuristic("tcp", heuristic)
