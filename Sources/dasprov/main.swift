print("dasprov")
