print("meow-learner")
