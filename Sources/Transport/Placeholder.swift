import CNNG
public func nngVersionString() -> String { String(cString: nng_version()) }
