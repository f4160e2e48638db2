import UDPOverTCP

Udp2TcpCommand.main()
