print("meow-actor")
