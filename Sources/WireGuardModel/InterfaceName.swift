/// The interface names this project creates and accepts: 1-15 bytes of `[a-zA-Z0-9_=+.-]`, and
/// not `.` or `..` — what wg-quick allows, well inside the kernel's `dev_valid_name`. The one
/// check for configuration values, device configurations and new links.
public enum InterfaceName {
    /// The longest name (`IFNAMSIZ` less its NUL).
    public static let maximumLength = 15

    /// Throws why `name` is not an interface name.
    public static func validate(_ name: String) throws(InterfaceNameError) {
        let bytes = name.utf8
        guard bytes.allSatisfy(isAllowed) else { throw InterfaceNameError(name: name, problem: .characters) }
        guard !bytes.isEmpty else { throw InterfaceNameError(name: name, problem: .empty) }
        guard bytes.count <= maximumLength else { throw InterfaceNameError(name: name, problem: .tooLong) }
        guard name != "." && name != ".." else { throw InterfaceNameError(name: name, problem: .reserved) }
    }

    /// Whether `name` is an interface name.
    public static func isValid(_ name: String) -> Bool {
        do {
            try validate(name)
            return true
        } catch {
            return false
        }
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
            || "_=+.-".utf8.contains(byte)
    }
}

/// Why a string is not an interface name (`InterfaceName`): a validation error, found before
/// anything reaches the kernel. Its description reads like
/// `interface name "wg0/evil" may only contain a-z, A-Z, 0-9 and _=+.-`.
public struct InterfaceNameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with the name.
    public enum Problem: Hashable, Sendable {
        /// A byte outside `[a-zA-Z0-9_=+.-]`.
        case characters
        /// No bytes.
        case empty
        /// More than 15 bytes.
        case tooLong
        /// `.` or `..`.
        case reserved
    }

    /// The name refused.
    public var name: String
    public var problem: Problem

    public init(name: String, problem: Problem) {
        self.name = name
        self.problem = problem
    }

    /// The reason, with the name shown as `quoted` (escaped, shortened or redacted by the caller).
    public func reason(quoting quoted: String) -> String {
        switch problem {
        case .characters: "interface name \(quoted) may only contain a-z, A-Z, 0-9 and _=+.-"
        case .empty: "interface name is empty"
        case .tooLong: "interface name \(quoted) is longer than \(InterfaceName.maximumLength) characters"
        case .reserved: "interface name \(quoted) is not allowed"
        }
    }

    public var description: String { reason(quoting: "\"\(name)\"") }
}
