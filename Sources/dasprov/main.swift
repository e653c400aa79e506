print("dasprov: CLI pending integration")
