#!/usr/bin/env python3
"""Writes the expected octets of tests/vectors/*.vec with an encoder independent of acctlab's:
plain struct packing and hashlib MD5 (RFC 2866 §3). Run it to regenerate; the C++ runner then
checks acctlab's encoder and decoder against these files."""
import hashlib, socket, struct, sys

def attr(t, v): return bytes([t, len(v) + 2]) + v
def vsa(vendor, subs, tsize=1, lsize=1):
    body = b""
    for t, v in subs:
        body += t.to_bytes(tsize, "big") + ((len(v) + tsize + lsize).to_bytes(lsize, "big") if lsize else b"") + v
    return attr(26, struct.pack("!I", vendor) + body)
def u32(n): return struct.pack("!I", n)
def ip(a): return socket.inet_pton(socket.AF_INET, a)
def ip6(a): return socket.inet_pton(socket.AF_INET6, a)
def packet(code, ident, attrs, secret=None, auth=bytes(16)):
    body = b"".join(attrs)
    length = 20 + len(body)
    head = bytes([code, ident]) + struct.pack("!H", length)
    if secret is not None:
        auth = hashlib.md5(head + bytes(16) + body + secret.encode()).digest()
    return head + auth + body
def hx(b): return b.hex()

CISCO = 9
def av(s): return vsa(CISCO, [(1, s.encode())])
def nas_port(s): return vsa(CISCO, [(2, s.encode())])

out = []
w = out.append
w("# Accounting vectors. Source: the feature document's debug radius examples (Start len 220,")
w("# Interim len 200, Stop); expected octets from tests/vectors/make_vectors.py (struct + hashlib).")
w("dictionary builtin")
w("secret testing123")
start = [attr(44, b"00000001"), av("isakmp-group-id=cclient"), attr(8, ip("10.13.13.1")),
         av("vrf-id=cisco"), av("isakmp-initator-ip=11.1.2.2"), av("connect-progress=No Progress"),
         attr(1, b"joe@cclient"), attr(40, u32(1)), nas_port("FastEthernet0/0.1"), attr(5, u32(0)),
         attr(4, ip("10.1.1.147")), attr(41, u32(0))]
p = packet(4, 4, start, "testing123"); assert len(p) == 220
w('encode Accounting-Request id=4 { Acct-Session-Id = "00000001", Cisco-AVPair = "isakmp-group-id=cclient", Framed-IP-Address = 10.13.13.1, Cisco-AVPair = "vrf-id=cisco", Cisco-AVPair = "isakmp-initator-ip=11.1.2.2", Cisco-AVPair = "connect-progress=No Progress", User-Name = "joe@cclient", Acct-Status-Type = Start, Cisco-NAS-Port = "FastEthernet0/0.1", NAS-Port = 0, NAS-IP-Address = 10.1.1.147, Acct-Delay-Time = 0 }')
w("expect " + hx(p))
w("decode -")
w('expect Accounting-Request id=4 { Acct-Session-Id = "00000001", Cisco-AVPair = "isakmp-group-id=cclient", Framed-IP-Address = 10.13.13.1, Cisco-AVPair = "vrf-id=cisco", Cisco-AVPair = "isakmp-initator-ip=11.1.2.2", Cisco-AVPair = "connect-progress=No Progress", User-Name = "joe@cclient", Acct-Status-Type = Start, Cisco-NAS-Port = "FastEthernet0/0.1", NAS-Port = 0, NAS-IP-Address = 10.1.1.147, Acct-Delay-Time = 0 }')
# The Interim listing prints "isakmp-initiator-ip=11.1.1.2" yet gives it length 29 (VSA 35), the
# length of the 27-character "isakmp-initator-ip=11.1.1.2": the wire carried IOS's spelling, and
# only that adds up to the printed len 200.
interim = [attr(44, b"00000003"), av("vrf-id=cisco"), av("isakmp-initator-ip=11.1.1.2"),
           av("connect-progress=No Progress"), attr(46, u32(109)), attr(42, u32(608)), attr(43, u32(608)),
           attr(47, u32(4)), attr(48, u32(4)), attr(40, u32(3)), nas_port("FastEthernet0/0.1"),
           attr(5, u32(0)), attr(4, ip("100.1.1.147")), attr(41, u32(0))]
p = packet(4, 22, interim, "testing123"); assert len(p) == 200, len(p)
w('encode Accounting-Request id=22 { Acct-Session-Id = "00000003", Cisco-AVPair = "vrf-id=cisco", Cisco-AVPair = "isakmp-initator-ip=11.1.1.2", Cisco-AVPair = "connect-progress=No Progress", Acct-Session-Time = 109, Acct-Input-Octets = 608, Acct-Output-Octets = 608, Acct-Input-Packets = 4, Acct-Output-Packets = 4, Acct-Status-Type = Interim-Update, Cisco-NAS-Port = "FastEthernet0/0.1", NAS-Port = 0, NAS-IP-Address = 100.1.1.147, Acct-Delay-Time = 0 }')
w("expect " + hx(p))
stop = [attr(44, b"00000002"), av("vrf-id=cisco"), av("isakmp-initator-ip=11.1.1.2"),
        av("connect-progress=No Progress"), attr(46, u32(709)), attr(42, u32(152608)), attr(43, u32(152608)),
        attr(47, u32(1004)), attr(48, u32(1004)), attr(52, u32(0)), attr(53, u32(0)), attr(49, u32(0)),
        av("disc-cause-ext=No Reason"), attr(40, u32(2)), nas_port("FastEthernet0/0.1"), attr(5, u32(0)),
        attr(4, ip("100.1.1.147")), attr(41, u32(0))]
p = packet(4, 19, stop, "testing123")
w("# The document's Stop prints len 238; its listed attributes add up to %d octets: the two gigaword lines," % len(p))
w("# stamped *Apr instead of *Aug, were pasted in from another capture (2 x 6 = 12 octets).")
w('encode Accounting-Request id=19 { Acct-Session-Id = "00000002", Cisco-AVPair = "vrf-id=cisco", Cisco-AVPair = "isakmp-initator-ip=11.1.1.2", Cisco-AVPair = "connect-progress=No Progress", Acct-Session-Time = 709, Acct-Input-Octets = 152608, Acct-Output-Octets = 152608, Acct-Input-Packets = 1004, Acct-Output-Packets = 1004, Acct-Input-Gigawords = 0, Acct-Output-Gigawords = 0, Acct-Terminate-Cause = 0, Cisco-AVPair = "disc-cause-ext=No Reason", Acct-Status-Type = Stop, Cisco-NAS-Port = "FastEthernet0/0.1", NAS-Port = 0, NAS-IP-Address = 100.1.1.147, Acct-Delay-Time = 0 }')
w("expect " + hx(p))
# Two sub-attributes in one Vendor-Specific, and an unknown Cisco attribute.
two = [vsa(CISCO, [(1, b"a=b"), (2, b"Fa0/1")]), vsa(CISCO, [(99, b"\x01\x02")]), attr(200, b"\xff")]
p = packet(4, 1, two, None)
w("secret -")
w('encode Accounting-Request id=1 { Cisco-AVPair = "a=b", +Cisco-NAS-Port = "Fa0/1", Attr-26.9.99 = 0x0102, Attr-200 = 0xff }')
w("expect " + hx(p))
w("decode -")
w('expect Accounting-Request id=1 { Cisco-AVPair = "a=b", +Cisco-NAS-Port = "Fa0/1", Attr-26.9.99 = 0x0102, Attr-200 = 0xff }')
# Unknown vendor: parsed with the default 1,1 format and kept by number.
p = packet(4, 2, [vsa(4242, [(7, b"xy")])])
w("decode " + hx(p))
w("expect Accounting-Request id=2 { Attr-26.4242.7 = 0x7879 }")
w("count 7")
open("accounting.vec", "w").write("\n".join(out) + "\n")

out = []
w = out.append
w("# Malformed datagrams (RFC 2865 §3); expected errors are the decoder's taxonomy.")
w("dictionary builtin")
z = bytes(16)
cases = [
    (b"", "error empty_datagram"),
    (bytes([4, 1, 0, 20, 0]), "error truncated_header"),
    (bytes([4, 1, 0, 19]) + z, "error length_too_small"),
    (bytes([4, 1, 0x10, 0x01]) + z + bytes(4077), "error length_too_large"),
    (bytes([4, 1, 0, 32]) + z, "error length_exceeds_datagram"),
    (bytes([4, 1, 0, 22]) + z + bytes([1, 0]), "error attribute_length_too_small"),
    (bytes([4, 1, 0, 22]) + z + bytes([1, 1]), "error attribute_length_too_small"),
    (bytes([4, 1, 0, 21]) + z + bytes([1]), "error attribute_header_truncated"),
    (bytes([4, 1, 0, 24]) + z + bytes([1, 6, 0x61, 0x62]), "error attribute_overflows_packet"),
    (bytes([4, 1, 0, 32]) + z + bytes([0x1a, 0x0c, 0, 0, 0, 9, 1, 9, 0x61, 0x62, 0x63, 0x64]),
     "Accounting-Request id=1 { Vendor-Specific = 0x00000009010961626364 }"),
    (bytes([4, 1, 0, 20]) + z + bytes([0xff, 0xff]), "Accounting-Request id=1 {}"),
    (bytes([4, 1, 0, 26]) + z + bytes([8, 6, 10, 13, 13, 1]) + bytes(6),
     "Accounting-Request id=1 { Framed-IP-Address = 10.13.13.1 }"),
]
for data, expect in cases:
    w("decode " + hx(data))
    w("expect " + expect)
w("count %d" % len(cases))
open("malformed.vec", "w").write("\n".join(out) + "\n")

out = []
w = out.append
w("# Every data type, through a test dictionary (vendor 32473, RFC 5612's documentation number).")
w("dictionary dictionary.test")
w("secret -")
EX = 32473
typed = [
    ('Example-Text = "ab\\"c\\x01"', 1, b'ab"c\x01'),
    ("Example-Octets = 0x00ff10", 2, b"\x00\xff\x10"),
    ("Example-Integer = 4294967295", 3, u32(0xFFFFFFFF)),
    ("Example-Integer64 = 18446744073709551615", 4, b"\xff" * 8),
    ("Example-Date = 2003-08-23T04:06:20Z", 5, u32(1061611580)),
    ("Example-IPv4 = 192.0.2.1", 6, ip("192.0.2.1")),
    ("Example-IPv6 = 2001:db8::1", 7, ip6("2001:db8::1")),
    ("Example-IPv4-Prefix = 192.0.2.0/24", 8, bytes([0, 24]) + ip("192.0.2.0")),
    ("Example-IPv6-Prefix = 2001:db8::/32", 9, bytes([0, 32]) + ip6("2001:db8::")),
    ("Example-Ifid = 0011:2233:4455:6677", 10, bytes.fromhex("0011223344556677")),
    ("Example-Byte = 200", 11, bytes([200])),
    ("Example-Short = 65535", 12, b"\xff\xff"),
    ("Example-Ether = 00:11:22:aa:bb:cc", 13, bytes.fromhex("001122aabbcc")),
    ("Example-Signed = -2", 14, struct.pack("!i", -2)),
    ("Example-TLV = 0x0103616263", 15, bytes.fromhex("0103616263")),
    ("Example-Enum = Green", 16, u32(2)),
    # RFC 2868 §3 tags: an integer's high octet, a text value's first octet.
    ("Example-Tagged-Int:1 = L2TP", 17, bytes([1, 0, 0, 3])),
    ('Example-Tagged-Text:2 = "pool"', 18, b"\x02pool"),
    ('Example-Tagged-Text = "untagged"', 18, b"untagged"),
]
n = 0
for text, t, value in typed:
    p = packet(4, 9, [vsa(EX, [(t, value)])])
    w("encode Accounting-Request id=9 { %s }" % text)
    w("expect " + hx(p))
    w("decode -")
    w("expect Accounting-Request id=9 { %s }" % text)
    n += 2
# Values that do not fit their type are shown as raw octets, not dropped.
bad = [
    (3, b"\x01\x02", "Example-Integer = 0x0102"),
    (6, b"\x0a\x0d\x0d", "Example-IPv4 = 0x0a0d0d"),
    (8, bytes([0, 33]) + ip("192.0.2.0"), "Example-IPv4-Prefix = 0x0021c0000200"),
    (8, bytes([0, 24]) + ip("192.0.2.1"), "Example-IPv4-Prefix = 0x0018c0000201"),
    (9, bytes([0, 129]), "Example-IPv6-Prefix = 0x0081"),
    (10, b"\x01", "Example-Ifid = 0x01"),
]
for t, value, text in bad:
    w("decode " + hx(packet(4, 9, [vsa(EX, [(t, value)])])))
    w("expect Accounting-Request id=9 { %s }" % text)
    n += 1
# A vendor with format=2,2.
p = packet(4, 9, [vsa(32474, [(300, b"wide")], 2, 2)])
w('encode Accounting-Request id=9 { Wide-Text = "wide" }')
w("expect " + hx(p))
n += 1
w("count %d" % n)
open("types.vec", "w").write("\n".join(out) + "\n")

# The RFC and vendor dictionaries added for field captures (dictionaries/dictionary.rfc2868 and
# on): each attribute encoded from its text form and decoded back, tags per RFC 2868 §3.
out = []
w = out.append
w("# Attributes of dictionary.rfc2868, rfc4818, rfc5176, rfc7268 and the vendor files (Microsoft,")
w("# Aruba, Airespace, Meraki, Juniper, Fortinet), through the built-in dictionary. Expected octets")
w("# from tests/vectors/make_vectors.py (struct packing, RFC 2868 §3 tags).")
w("dictionary builtin")
w("secret -")
named = [
    # RFC 2868 §3.1: a tagged integer carries its tag in the high octet.
    (4, "Tunnel-Type:1 = VLAN, Tunnel-Medium-Type:1 = IEEE-802, Tunnel-Private-Group-Id:1 = \"100\"",
     [attr(64, b"\x01\x00\x00\x0d"), attr(65, b"\x01\x00\x00\x06"), attr(81, b"\x01100")]),
    # Tag 0x00: an integer without a tag; text whose first octet is above 0x1F has none either.
    (4, "Tunnel-Type = L2TP, Tunnel-Server-Endpoint = \"vpn.example.net\"",
     [attr(64, u32(3)), attr(67, b"vpn.example.net")]),
    (4, "Tunnel-Client-Endpoint:3 = \"192.0.2.1\", Tunnel-Preference:2 = 10, "
        "Tunnel-Assignment-Id:31 = \"lac\", Tunnel-Client-Auth-Id:1 = \"c\", "
        "Tunnel-Server-Auth-Id:1 = \"s\"",
     [attr(66, b"\x03192.0.2.1"), attr(83, b"\x02\x00\x00\x0a"), attr(82, b"\x1flac"),
      attr(90, b"\x01c"), attr(91, b"\x01s")]),
    # RFC 2868 §3.5: tag, a salt with its high bit set, then the hidden password, shown as sent.
    (4, "Tunnel-Password:1 = \"\\x80\\x01ABCDEFGHIJKLMNOP\"",
     [attr(69, b"\x01\x80\x01ABCDEFGHIJKLMNOP")]),
    (45, "Error-Cause = Session-Context-Not-Found", [attr(101, u32(503))]),
    # RFC 5176 §3.6: 201 goes in a Disconnect-ACK only.
    (41, "Error-Cause = Residual-Session-Context-Removed", [attr(101, u32(201))]),
    (43, "Service-Type = Authorize-Only, Acct-Session-Id = \"00000001\"",
     [attr(6, u32(17)), attr(44, b"00000001")]),
    (4, "Delegated-IPv6-Prefix = 2001:db8:1200::/40",
     [attr(123, bytes([0, 40]) + ip6("2001:db8:1200::"))]),
    # 00-0F-AC-04 (CCMP) and 00-0F-AC-01 (802.1X) as integers; band 2.
    (4, "WLAN-Pairwise-Cipher = 1027076, WLAN-Group-Cipher = 1027076, WLAN-AKM-Suite = 1027073, "
        "WLAN-Group-Mgmt-Cipher = 1027078, WLAN-RF-Band = 2, Allowed-Called-Station-Id = \"corp\"",
     [attr(186, u32(0x000FAC04)), attr(187, u32(0x000FAC04)), attr(188, u32(0x000FAC01)),
      attr(189, u32(0x000FAC06)), attr(190, u32(2)), attr(174, b"corp")]),
    (4, "MS-CHAP-Challenge = 0x00112233445566778899aabbccddeeff, +MS-Acct-Auth-Type = EAP, "
        "+MS-MPPE-Encryption-Policy = Encryption-Required, +MS-RAS-Vendor = 311",
     [vsa(311, [(11, bytes.fromhex("00112233445566778899aabbccddeeff")), (23, u32(5)),
                (7, u32(2)), (9, u32(311))])]),
    (4, "Aruba-User-Role = \"employee\", +Aruba-Essid-Name = \"corp\", +Aruba-User-Vlan = 100",
     [vsa(14823, [(1, b"employee"), (5, b"corp"), (2, u32(100))])]),
    (4, "Airespace-Wlan-Id = 3, +Airespace-QOS-Level = Gold, +Airespace-Interface-Name = \"guest\"",
     [vsa(14179, [(1, u32(3)), (2, u32(1)), (5, b"guest")])]),
    (4, "Meraki-Device-Name = \"MR36\", +Meraki-Network-Name = \"Branch\"",
     [vsa(29671, [(1, b"MR36"), (2, b"Branch")])]),
    (4, "Juniper-Local-User-Name = \"remote-admin\", Fortinet-Group-Name = \"vpn-users\", "
        "+Fortinet-Client-IP-Address = 192.0.2.10",
     [vsa(2636, [(1, b"remote-admin")]), vsa(12356, [(1, b"vpn-users"), (2, ip("192.0.2.10"))])]),
]
codes = {4: "Accounting-Request", 41: "Disconnect-ACK", 43: "CoA-Request", 45: "CoA-NAK"}
n = 0
for code, text, attrs in named:
    w("encode %s id=7 { %s }" % (codes[code], text))
    w("expect " + hx(packet(code, 7, attrs)))
    w("decode -")
    w("expect %s id=7 { %s }" % (codes[code], text))
    n += 2
# Values that do not fit: shown as the octets sent (the text form's note is left out on one line).
odd = [
    # RFC 2868 §3.1: a tag octet above 0x1F is no tag; the value is not read as 0x20000003.
    (attr(64, b"\x20\x00\x00\x03"), "Tunnel-Type = 0x20000003"),
    # RFC 3162 §2.3, RFC 4818 §3: a prefix length above 128.
    (attr(123, bytes([0, 129]) + bytes(16)), "Delegated-IPv6-Prefix = 0x0081" + "00" * 16),
    # Valid, the prefix cut to the octets its length covers; the text form keeps those octets.
    (attr(123, bytes([0, 40]) + ip6("2001:db8:1200::")[:5]), "Delegated-IPv6-Prefix = 0x002820010db812"),
]
for a, text in odd:
    w("decode " + hx(packet(4, 7, [a])))
    w("expect Accounting-Request id=7 { %s }" % text)
    n += 1
w("count %d" % n)
open("dictionaries.vec", "w").write("\n".join(out) + "\n")
