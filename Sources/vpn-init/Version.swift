/// The version `vpn-init version` prints.
let vpnInitVersion = "0.1.0"
