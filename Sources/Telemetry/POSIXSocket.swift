#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP socket descriptor and the POSIX calls the metrics endpoint makes on it.
///
/// All pointer work on `sockaddr` structures and I/O buffers is fenced in here;
/// the server above it deals in byte arrays. Connections are non-blocking:
/// the server waits for them with `poll`, never inside a call. Not thread-safe: each socket is
/// used by one thread (the server thread) from creation to `close()`.
struct POSIXSocket {
    let descriptor: Int32

    /// A listening socket bound to `address`, with the kernel's choice of port when it is 0.
    static func listen(on address: ListenAddress, backlog: Int32 = 16) throws(TelemetryError) -> POSIXSocket {
        guard let family = ListenAddress.family(of: address.host) else {
            throw .invalidListenAddress(address.description, reason: "not a numeric address")
        }
        #if canImport(Glibc)
        let streamType = Int32(SOCK_STREAM.rawValue)
        #else
        let streamType = SOCK_STREAM
        #endif
        let fd = socket(family, streamType, 0)
        guard fd >= 0 else { throw .socketFailed(operation: "socket", reason: errnoDescription()) }
        let socket = POSIXSocket(descriptor: fd)
        do throws(TelemetryError) {
            var one: Int32 = 1
            // A restarted learner must be able to rebind while old connections sit in TIME_WAIT.
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let bound: Int32
            if family == AF_INET {
                var v4 = sockaddr_in()
                v4.sin_family = sa_family_t(AF_INET)
                v4.sin_port = in_port_t(UInt16(address.port).bigEndian)
                _ = inet_pton(AF_INET, address.host, &v4.sin_addr)
                bound = withUnsafePointer(to: &v4) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            } else {
                var v6 = sockaddr_in6()
                v6.sin6_family = sa_family_t(AF_INET6)
                v6.sin6_port = in_port_t(UInt16(address.port).bigEndian)
                _ = inet_pton(AF_INET6, address.host, &v6.sin6_addr)
                bound = withUnsafePointer(to: &v6) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            }
            guard bound == 0 else {
                throw .socketFailed(operation: "bind \(address)", reason: errnoDescription())
            }
            guard posixListen(fd, backlog) == 0 else {
                throw .socketFailed(operation: "listen \(address)", reason: errnoDescription())
            }
            // Non-blocking accept: a client that resets between poll() and accept() must not stall the thread.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            return socket
        } catch {
            socket.close()
            throw error
        }
    }

    /// The port the socket is bound to.
    func localPort() -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer -> Int in
            if family == AF_INET {
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
        }
    }

    /// An accepted connection (non-blocking, close-on-exec), or nil if none was pending.
    func accept() -> POSIXSocket? {
        let fd = posixAccept(descriptor, nil, nil)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        #if canImport(Darwin)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        return POSIXSocket(descriptor: fd)
    }

    /// What one non-blocking receive got.
    enum Received: Equatable {
        case bytes([UInt8])
        /// Nothing to read right now.
        case wouldBlock
        /// The peer closed its sending side.
        case end
        /// The connection failed (reset, or another error).
        case failed
    }

    /// Up to `maxCount` bytes that are already there; never waits.
    func receiveAvailable(maxCount: Int) -> Received {
        var buffer = [UInt8](repeating: 0, count: max(1, maxCount))
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 { return .bytes(Array(buffer[..<count])) }
            if count == 0 { return .end }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed
        }
    }

    /// Sends what the kernel takes now; the count sent (0 when its buffer is full), nil if the peer went away.
    func sendAvailable(_ bytes: ArraySlice<UInt8>) -> Int? {
        #if canImport(Glibc)
        let flags = Int32(MSG_NOSIGNAL)  // a vanished scraper must not kill the learner with SIGPIPE
        #else
        let flags: Int32 = 0
        #endif
        guard !bytes.isEmpty else { return 0 }
        while true {
            let sent = bytes.withUnsafeBytes { posixSend(descriptor, $0.baseAddress, $0.count, flags) }
            if sent >= 0 { return sent }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : nil
        }
    }

    /// Stops sending, so the peer sees end of stream after the response.
    func shutdownWrite() {
        _ = shutdown(descriptor, Int32(SHUT_WR))
    }

    func close() {
        _ = closeDescriptor(descriptor)
    }
}

// POSIXSocket's methods shadow these libc names inside the type; the aliases reach libc.
private func posixListen(_ fd: Int32, _ backlog: Int32) -> Int32 { listen(fd, backlog) }
private func posixAccept(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?) -> Int32 {
    accept(fd, address, length)
}
private func posixSend(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
    send(fd, bytes, count, flags)
}
