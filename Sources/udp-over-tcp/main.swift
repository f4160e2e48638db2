import UDPOverTCP

MultiCall.main()
