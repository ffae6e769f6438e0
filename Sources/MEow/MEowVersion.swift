/// meow's version, in one place.
public enum MEowVersion {
    /// Every executable's `--version`, HELLO's client version and checkpoints say it; the Python
    /// client's `meow_client.__version__` must agree (Tests/system/test_versions.py).
    public static let current = "0.2.0"
}
