import Testing
import WireGuard
import WireGuardModel

/// The one interface-name check, shared by configuration values, device configurations and links.
@Suite struct InterfaceNameTests {
    @Test(arguments: ["wg0", "a", "wg_vpn-1.2+x=y", "123456789012345", "..."])
    func validNames(_ name: String) {
        #expect(InterfaceName.isValid(name))
    }

    @Test(arguments: [
        ("", InterfaceNameError.Problem.empty),
        ("1234567890123456", .tooLong),
        ("wg0/evil", .characters),
        ("wg:0", .characters),
        ("wg 0", .characters),
        ("wg\u{0}0", .characters),
        ("wgé", .characters),
        (".", .reserved),
        ("..", .reserved),
    ])
    func invalidNames(_ name: String, _ problem: InterfaceNameError.Problem) {
        #expect(throws: InterfaceNameError(name: name, problem: problem)) { try InterfaceName.validate(name) }
    }

    @Test func reasons() {
        #expect(InterfaceNameError(name: "1234567890123456", problem: .tooLong).description
            == "interface name \"1234567890123456\" is longer than 15 characters")
        #expect(InterfaceNameError(name: "a/b", problem: .characters).reason(quoting: "<redacted>")
            == "interface name <redacted> may only contain a-z, A-Z, 0-9 and _=+.-")
    }

    /// Both backends refuse a device configuration for a name no link may have.
    @Test func deviceConfigurationUsesTheSameCheck() {
        #expect(throws: ParseError("interface name \"wg0@x\" may only contain a-z, A-Z, 0-9 and _=+.-")) {
            try WireGuardDeviceConfig(interfaceName: "wg0@x").validate()
        }
    }
}
