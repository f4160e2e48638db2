// The alternative: FoundationEssentials' JSONDecoder, decoding the same answer.
import FoundationEssentials
struct Answer: Decodable { var key: String; var signature_chain: [String] }
let text = Array(#"{"key":"00ff","signature_chain":["aa"]}"#.utf8)
let value = try! JSONDecoder().decode(Answer.self, from: Data(text))
if value.key != "00ff" { fatalError() }
print("ok")
