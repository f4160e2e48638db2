// vpn-init's own parser: compiled with Sources/DstackAgent/JSON.swift (scripts/bench-lib/json.sh),
// parsing an answer shaped like the guest agent's GetKey.
let text = Array(#"{"key":"00ff","signature_chain":["aa"]}"#.utf8)
let value = try! JSONValue.parse(text)
if value["key"]?.string != "00ff" { fatalError() }
print("ok")
