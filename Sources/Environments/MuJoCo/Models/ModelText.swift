extension MuJoCoModels {
    /// The MJCF text of a MuJoCo task's built-in model, by the task's canonical name; nil for
    /// environments that MuJoCo does not simulate. `meow model` prints it as the starting point
    /// of a user's variant (`--model PATH`).
    public static func text(environment: String) -> String? {
        switch environment {
        case HopperTask.name: hopper
        case Walker2dTask.name: walker2d
        case HalfCheetahTask.name: halfCheetah
        case AntTask.name: ant
        case HumanoidTask.name: humanoid
        default: nil
        }
    }
}
