import UDPOverTCP

Tcp2UdpCommand.main()
