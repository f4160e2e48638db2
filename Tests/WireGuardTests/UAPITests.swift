#if canImport(Glibc)
import Glibc
#endif
import SystemCalls
import Testing
import WireGuard
import WireGuardModel

/// wireguard-go's text protocol: requests built and responses parsed.
@Suite struct UAPITests {
    static let privateKey = WireGuardKey(hex: "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a")!
    static let peerKey = WireGuardKey(hex: "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33")!
    static let preshared = WireGuardKey(hex: "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52")!

    @Test(arguments: [
        (WireGuardDeviceConfig(interfaceName: "wg0"), "set=1\n\n"),
        (WireGuardDeviceConfig(interfaceName: "wg0", privateKey: privateKey, listenPort: 51820, fwmark: 0x1234, replacePeers: true, peers: [
            WireGuardPeerConfig(publicKey: peerKey, presharedKey: preshared, endpoint: try! Endpoint(parsing: "192.0.2.2:51821"),
                                persistentKeepalive: 25, replaceAllowedIPs: true,
                                allowedIPs: [try! IPNetwork(parsing: "10.9.0.2/32"), try! IPNetwork(parsing: "fd09::/64")]),
        ]), """
        set=1
        private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a
        listen_port=51820
        fwmark=4660
        replace_peers=true
        public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33
        preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52
        endpoint=192.0.2.2:51821
        persistent_keepalive_interval=25
        replace_allowed_ips=true
        allowed_ip=10.9.0.2/32
        allowed_ip=fd09::/64


        """),
        (WireGuardDeviceConfig(interfaceName: "wg0", peers: [
            WireGuardPeerConfig(publicKey: peerKey, remove: true),
            WireGuardPeerConfig(publicKey: privateKey, updateOnly: true, endpoint: try! Endpoint(parsing: "[fd00::3]:51822")),
        ]), """
        set=1
        public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33
        remove=true
        public_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a
        update_only=true
        endpoint=[fd00::3]:51822


        """),
    ])
    func setRequests(config: WireGuardDeviceConfig, text: String) {
        #expect(UAPI.setRequest(config) == text)
    }

    @Test func getResponseParses() throws {
        let text = """
        private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a
        listen_port=51820
        fwmark=4660
        public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33
        preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52
        protocol_version=1
        endpoint=[fd00::3]:51822
        last_handshake_time_sec=1700000000
        last_handshake_time_nsec=123
        tx_bytes=448
        rx_bytes=324
        persistent_keepalive_interval=25
        allowed_ip=10.9.0.2/32
        allowed_ip=fd09::/64
        public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376
        preshared_key=0000000000000000000000000000000000000000000000000000000000000000
        last_handshake_time_sec=0
        last_handshake_time_nsec=0
        tx_bytes=0
        rx_bytes=0
        persistent_keepalive_interval=0
        errno=0


        """
        let device = try UAPI.parseGetResponse(text, interfaceName: "wg0")
        #expect(device == WireGuardDevice(
            interfaceName: "wg0", privateKey: Self.privateKey, publicKey: Self.privateKey.publicKey(), listenPort: 51820, fwmark: 4660,
            peers: [
                WireGuardPeerStatus(publicKey: Self.peerKey, presharedKey: Self.preshared, endpoint: try Endpoint(parsing: "[fd00::3]:51822"),
                                    allowedIPs: [try IPNetwork(parsing: "10.9.0.2/32"), try IPNetwork(parsing: "fd09::/64")],
                                    latestHandshake: 1_700_000_000, rxBytes: 324, txBytes: 448, persistentKeepalive: 25),
                WireGuardPeerStatus(publicKey: WireGuardKey(hex: "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376")!),
            ]))
        #expect(!device.description.contains(Self.privateKey.base64))
        #expect(!device.description.contains(Self.preshared.base64))
    }

    @Test func emptyDevice() throws {
        #expect(try UAPI.parseGetResponse("errno=0\n\n", interfaceName: "wg0") == WireGuardDevice(interfaceName: "wg0"))
    }

    @Test(arguments: [
        ("errno=22\n\n", SystemCallError("uapi get", "wg0", errno: 22)),
        ("errno=-1\n\n", SystemCallError("uapi get", "wg0", errno: 1)),
        ("", SystemCallError("uapi get", "wg0", errno: 71, detail: "response has no errno line")),
        ("garbage\nerrno=0\n\n", SystemCallError("uapi get", "wg0", errno: 71, detail: "line 1: \"garbage\" is not key=value")),
        ("listen_port=70000\nerrno=0\n\n", SystemCallError("uapi get", "wg0", errno: 71, detail: "line 1: bad listen_port \"70000\"")),
        ("public_key=00\nerrno=0\n\n", SystemCallError("uapi get", "wg0", errno: 71, detail: "line 1: bad public_key \"00\"")),
        ("public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\nendpoint=host:1\nerrno=0\n\n",
         SystemCallError("uapi get", "wg0", errno: 71, detail: "line 2: bad endpoint \"host:1\"")),
        ("public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\nallowed_ip=10.0.0.1\nerrno=0\n\n",
         SystemCallError("uapi get", "wg0", errno: 71, detail: "line 2: bad allowed_ip \"10.0.0.1\"")),
        ("errno=x\n\n", SystemCallError("uapi get", "wg0", errno: 71, detail: "line 1: bad errno \"x\"")),
    ])
    func badGetResponses(text: String, error: SystemCallError) {
        #expect(throws: error) { try UAPI.parseGetResponse(text, interfaceName: "wg0") }
    }

    @Test(arguments: [
        ("errno=0\n\n", nil),
        ("errno=1\n\n", SystemCallError("uapi set", "wg0", errno: 1)),
        ("errno=-95\n\n", SystemCallError("uapi set", "wg0", errno: 95)),
        ("\n", SystemCallError("uapi set", "wg0", errno: 71, detail: "response has no errno line")),
    ] as [(String, SystemCallError?)])
    func setResponses(text: String, error: SystemCallError?) {
        if let error {
            #expect(throws: error) { try UAPI.checkSetResponse(text, interfaceName: "wg0") }
        } else {
            #expect(throws: Never.self) { try UAPI.checkSetResponse(text, interfaceName: "wg0") }
        }
    }

    @Test func errnoReadsAsItsName() {
        #expect(SystemCallError("uapi set", "wg0", errno: 22).description == "uapi set wg0: Invalid argument (EINVAL)")
    }

    @Test func missingSocketNamesThePath() {
        let backend = UserspaceWireGuard(interfaceName: "wgnone", socketDirectory: "/nonexistent-dir")
        #expect(throws: SystemCallError("connect", "/nonexistent-dir/wgnone.sock", errno: 2)) { try backend.device() }
    }

    @Test func unresolvedEndpointIsRefusedBeforeConnecting() {
        let backend = UserspaceWireGuard(interfaceName: "wg0", socketDirectory: "/nonexistent-dir")
        let config = WireGuardDeviceConfig(interfaceName: "wg0", peers: [
            WireGuardPeerConfig(publicKey: Self.peerKey, endpoint: try! Endpoint(parsing: "node-b:51820")),
        ])
        #expect {
            try backend.configure(config)
        } throws: { error in
            guard case .invalid("wg0", let reason) = error as? WireGuardConfigError else { return false }
            return reason.hasSuffix("endpoint \"node-b:51820\" is not an IP address; resolve it first")
        }
    }
}

/// The UAPI socket vpn-init creates for wireguard-go, and a `set` sent before anyone accepts.
@Suite struct UAPISocketTests {
    static let directory = "/tmp/uapi-socket-tests-\(getpid())"

    @Test func aRequestWaitsInTheBacklogUntilTheListenerAccepts() throws {
        let device = UserspaceWireGuard(interfaceName: "wgb\(UInt16.random(in: 0...9999))", socketDirectory: Self.directory)
        // A stale file (a killed wireguard-go's socket) is replaced.
        try Files.makeDirectories(Self.directory, mode: 0o755)
        try Files.writeAtomically(device.socketPath, [], mode: 0o600)
        let listener = try device.listen()
        defer { close(listener); unlink(device.socketPath) }
        var info = stat()
        #expect(stat(device.socketPath, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK && info.st_mode & 0o777 == 0o700)

        // Sent while nothing accepts: as when wireguard-go is still starting.
        let pending = try device.beginConfiguration(WireGuardDeviceConfig(interfaceName: device.interfaceName, listenPort: 51820))
        let connection = accept(listener, nil, nil)
        #expect(connection >= 0)
        defer { close(connection) }
        var request = [UInt8](repeating: 0, count: 256)
        let count = read(connection, &request, request.count)
        #expect(String(decoding: request[0..<max(count, 0)], as: UTF8.self) == "set=1\nlisten_port=51820\n\n")
        let answer = Array("errno=0\n\n".utf8)
        #expect(write(connection, answer, answer.count) == answer.count)
        try pending.finish()
        try pending.finish()  // a second call does nothing
    }

    /// A `get` for PID 1's loop: nothing blocks while wireguard-go has not accepted or has
    /// answered only part; the device comes once the answer is complete.
    @Test func aDeviceQueryNeverWaits() throws {
        let device = UserspaceWireGuard(interfaceName: "wgq\(UInt16.random(in: 0...9999))", socketDirectory: Self.directory)
        let listener = try device.listen()
        defer { close(listener); unlink(device.socketPath) }
        let query = try device.beginDeviceQuery()
        #expect(try query.readAvailable() == nil)  // not accepted yet (a stopped wireguard-go)
        let connection = accept(listener, nil, nil)
        #expect(connection >= 0)
        defer { close(connection) }
        var request = [UInt8](repeating: 0, count: 64)
        let count = read(connection, &request, request.count)
        #expect(String(decoding: request[0..<max(count, 0)], as: UTF8.self) == "get=1\n\n")
        let key = try WireGuardKey.generatePrivate().publicKey()
        let parts = ["listen_port=51820\npublic_key=\(key.hex)\nrx_by", "tes=7\nlast_handshake_time_sec=0\nerrno=0\n", "\n"]
        for (index, part) in parts.enumerated() {
            #expect(write(connection, part, part.utf8.count) == part.utf8.count)
            let answer = try query.readAvailable()
            #expect((answer == nil) == (index < parts.count - 1))
            if let answer {
                #expect(answer.listenPort == 51820 && answer.peers.map(\.rxBytes) == [7])
            }
        }
    }

    @Test func aDeviceQueryClosedBeforeItsAnswerFails() throws {
        let device = UserspaceWireGuard(interfaceName: "wgr\(UInt16.random(in: 0...9999))", socketDirectory: Self.directory)
        let listener = try device.listen()
        defer { unlink(device.socketPath) }
        let query = try device.beginDeviceQuery()
        let connection = accept(listener, nil, nil)
        var request = [UInt8](repeating: 0, count: 64)
        _ = read(connection, &request, request.count)  // unread, it would make the close a reset
        _ = write(connection, "listen_port=1\n", 14)
        close(connection)
        close(listener)
        #expect(throws: SystemCallError("read", device.socketPath, errno: EPROTO, detail: "connection closed before the end of the response")) {
            while try query.readAvailable() == nil {}
        }
    }

    @Test func aListenerThatClosesUnansweredFailsTheRequest() throws {
        let device = UserspaceWireGuard(interfaceName: "wgc\(UInt16.random(in: 0...9999))", socketDirectory: Self.directory)
        let listener = try device.listen()
        defer { unlink(device.socketPath) }
        let pending = try device.beginConfiguration(WireGuardDeviceConfig(interfaceName: device.interfaceName, listenPort: 51820))
        // As a wireguard-go that exits before accepting: the queued connection is reset.
        close(listener)
        #expect(throws: SystemCallError.self) { try pending.finish() }
    }
}
