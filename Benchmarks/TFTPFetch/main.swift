// A TFTP read client for benchmarks: RFC 1350 with blksize, tsize and windowsize (RFC 2348, 2349, 7440).
//
// atftp, the only packaged client with windowsize, spends 4-5 µs of user time per datagram and keeps
// Linux's default socket buffer, so windowed transfers measured with it top out near 300 MiB/s whatever
// the server does. This client receives each DATA straight into its place in the file's buffer
// (`recvmsg` with the header and the payload scattered apart), asks for a receive buffer that holds a
// whole window, and writes the file once at the end, so what it measures is the server and the kernel.
// `scripts/bench-tftp.sh` runs it against every server with the same options.
//
// Usage: tftp-fetch [--blksize N] [--windowsize N] [--rcvbuf BYTES] [--timeout SECONDS] [--output PATH]
//                   (HOST PORT FILE | --ceiling BYTES)
// --ceiling fetches BYTES from a bare sender in this process instead of a server (see Ceiling.swift).
// Prints "BYTES SECONDS" on stdout (the transfer, from the request to the last block; neither the buffer's
// preparation after the OACK nor the file write after the transfer is counted) and a readable line on
// stderr. Exits 1 on an ERROR packet, a timeout or a bad reply.

#if canImport(Glibc)
import Glibc
#endif

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct Arguments {
    var host = "", port = "", file = ""
    var blockSize: Int?
    var windowSize: Int?
    var receiveBuffer = 32 << 20
    var timeoutSeconds = 1
    var output: String?
    /// Fetch this many bytes from the bare sender in `Ceiling.swift` instead of HOST PORT FILE.
    var ceiling: Int?

    init(_ words: [String]) throws {
        var positional: [String] = []
        var index = 0
        func value() throws -> String {
            index += 1
            guard index < words.count else { throw Failure("\(words[index - 1]) needs a value") }
            return words[index]
        }
        func number() throws -> Int {
            let word = try value()
            guard let number = Int(word), number > 0 else { throw Failure("not a positive number: \(word)") }
            return number
        }
        while index < words.count {
            switch words[index] {
            case "--blksize": blockSize = try number()
            case "--windowsize": windowSize = try number()
            case "--rcvbuf": receiveBuffer = try number()
            case "--timeout": timeoutSeconds = try number()
            case "--output": output = try value()
            case "--ceiling": ceiling = try number()
            default: positional.append(words[index])
            }
            index += 1
        }
        if let ceiling, positional.isEmpty {
            let sender = try CeilingSender.start(size: ceiling)
            (host, port, file) = ("127.0.0.1", String(sender.port), "ceiling")
            return
        }
        guard positional.count == 3 else {
            throw Failure(
                "usage: tftp-fetch [--blksize N] [--windowsize N] [--rcvbuf BYTES] [--timeout S] [--output PATH] (HOST PORT FILE | --ceiling BYTES)")
        }
        (host, port, file) = (positional[0], positional[1], positional[2])
    }
}

/// A UDP socket with the few calls the client makes.
struct Socket {
    let descriptor: CInt
    var peer = sockaddr_storage()
    var peerLength = socklen_t(0)

    init(host: String, port: String, receiveBuffer: Int, timeoutSeconds: Int) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, port, &hints, &found) == 0, let info = found else { throw Failure("not a numeric address and port: \(host) \(port)") }
        defer { freeaddrinfo(found) }
        descriptor = socket(info.pointee.ai_family, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure("socket: \(String(cString: strerror(errno)))") }
        withUnsafeMutableBytes(of: &peer) { $0.copyMemory(from: UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen))) }
        peerLength = info.pointee.ai_addrlen
        // Root may exceed net.core.rmem_max (SO_RCVBUFFORCE); anyone else gets what the limit allows.
        var size = CInt(receiveBuffer)
        if setsockopt(descriptor, SOL_SOCKET, 33 /* SO_RCVBUFFORCE */, &size, 4) != 0 {
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, 4)
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ bytes: [UInt8]) {
        var peer = peer
        _ = withUnsafePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(descriptor, bytes, bytes.count, 0, $0, peerLength) }
        }
    }

    /// The first reply, from the transfer's own port (the server's TID): later sends go there, and the
    /// socket is connected to it so the kernel drops anyone else's datagrams.
    mutating func receiveFirst(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var from = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let count = withUnsafeMutablePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(descriptor, buffer.baseAddress, buffer.count, 0, $0, &length) }
        }
        if count >= 0 {
            (peer, peerLength) = (from, length)
            _ = withUnsafePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, length) } }
        }
        return count
    }

    /// One datagram: its first four bytes into `header`, the rest into `payload`. -1 on timeout.
    func receive(header: UnsafeMutableRawPointer, payload: UnsafeMutableRawBufferPointer) -> Int {
        var vectors = (iovec(iov_base: header, iov_len: 4), iovec(iov_base: payload.baseAddress, iov_len: payload.count))
        return withUnsafeMutablePointer(to: &vectors) { pair in
            pair.withMemoryRebound(to: iovec.self, capacity: 2) { vectors in
                var message = msghdr()
                message.msg_iov = vectors
                message.msg_iovlen = 2
                return recvmsg(descriptor, &message, 0)
            }
        }
    }
}

/// The file as it arrives: block n's payload at (n - 1) × blksize, grown as needed when tsize is unknown.
struct Destination {
    var bytes: UnsafeMutableRawBufferPointer
    init(capacity: Int) { bytes = .allocate(byteCount: max(capacity, 1), alignment: 16) }

    mutating func ensure(_ capacity: Int) {
        guard capacity > bytes.count else { return }
        let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, bytes.count * 2), alignment: 16)
        grown.copyMemory(from: UnsafeRawBufferPointer(bytes))
        bytes.deallocate()
        bytes = grown
    }
}

func request(_ arguments: Arguments) -> [UInt8] {
    var packet: [UInt8] = [0, 1] + Array(arguments.file.utf8) + [0] + Array("octet".utf8) + [0]
    var options = [("tsize", "0")]
    if let blockSize = arguments.blockSize { options.append(("blksize", String(blockSize))) }
    if let windowSize = arguments.windowSize { options.append(("windowsize", String(windowSize))) }
    for (name, value) in options { packet += Array(name.utf8) + [0] + Array(value.utf8) + [0] }
    return packet
}

func ack(_ block: Int) -> [UInt8] { [0, 4, UInt8(truncatingIfNeeded: block >> 8), UInt8(truncatingIfNeeded: block)] }

/// The options of an OACK (after its opcode), lower-cased names.
func options(_ bytes: UnsafeRawBufferPointer) -> [String: Int] {
    let fields = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    var result: [String: Int] = [:]
    var index = 0
    while index + 1 < fields.count {
        if let value = Int(fields[index + 1]) { result[fields[index].lowercased()] = value }
        index += 2
    }
    return result
}

func seconds(since start: timespec) -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec - start.tv_sec) + Double(now.tv_nsec - start.tv_nsec) / 1e9
}

struct Fetched {
    var destination: Destination
    var bytes: Int
    var seconds: Double
    var blockSize: Int
    var windowSize: Int
    var timeouts = 0
    var gapAcks = 0
}

func fetch(_ arguments: Arguments) throws -> Fetched {
    var socket = try Socket(host: arguments.host, port: arguments.port, receiveBuffer: arguments.receiveBuffer, timeoutSeconds: arguments.timeoutSeconds)
    defer { close(socket.descriptor) }
    var start = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    var offClock = 0.0
    func elapsed() -> Double { seconds(since: start) - offClock }
    let rrq = request(arguments)
    socket.send(rrq)

    // The first reply: an OACK, DATA 1 (the server took no option), or an ERROR.
    let first = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536 + 4, alignment: 16)
    defer { first.deallocate() }
    var count = -1
    for _ in 0..<5 {
        count = socket.receiveFirst(into: first)
        if count >= 0 { break }
        socket.send(rrq)
    }
    guard count >= 4 else { throw Failure("no answer from \(arguments.host) \(arguments.port)") }
    var blockSize = 512, windowSize = 1
    var destination: Destination
    var expected = 1  // the next block wanted
    var timeouts = 0, gapAcks = 0
    switch first[1] {
    case 6:
        let granted = options(UnsafeRawBufferPointer(rebasing: first[2..<count]))
        blockSize = granted["blksize"] ?? 512
        windowSize = granted["windowsize"] ?? 1
        // The buffer's pages are touched before ACK 0, off the clock: first-touch page faults cost this
        // client as much as the copies it measures, and no server should be charged for them.
        let paused = seconds(since: start)
        destination = Destination(capacity: (granted["tsize"] ?? 1 << 20) + blockSize)
        destination.bytes.initializeMemory(as: UInt8.self, repeating: 0)
        offClock = seconds(since: start) - paused
        socket.send(ack(0))
    case 3:
        // DATA 1 in reply to a request whose options were all declined.
        destination = Destination(capacity: 1 << 20)
        let payload = count - 4
        UnsafeMutableRawBufferPointer(rebasing: destination.bytes[0..<payload]).copyMemory(from: UnsafeRawBufferPointer(rebasing: first[4..<count]))
        socket.send(ack(1))
        if payload < 512 { return Fetched(destination: destination, bytes: payload, seconds: elapsed(), blockSize: 512, windowSize: 1) }
        expected = 2
    case 5:
        throw Failure("ERROR \(Int(first[2]) << 8 | Int(first[3])): \(String(decoding: first[4..<count].prefix { $0 != 0 }, as: UTF8.self))")
    default:
        throw Failure("unexpected opcode \(first[1]) in the first reply")
    }

    let header = UnsafeMutableRawPointer.allocate(byteCount: 4, alignment: 4)
    defer { header.deallocate() }
    var lastAcked = expected - 1
    var inWindow = 0
    var gapAnswered = false
    var retries = 0
    while true {
        let offset = (expected - 1) * blockSize
        destination.ensure(offset + blockSize)
        let received = socket.receive(header: header, payload: UnsafeMutableRawBufferPointer(rebasing: destination.bytes[offset..<offset + blockSize]))
        if received < 0 {
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { throw Failure("recvmsg: \(String(cString: strerror(errno)))") }
            timeouts += 1
            retries += 1
            guard retries <= 5 else { throw Failure("timed out waiting for block \(expected)") }
            // RFC 7440 §4: on silence the receiver acknowledges the last block it has in order.
            socket.send(ack(expected - 1))
            lastAcked = expected - 1
            inWindow = 0
            continue
        }
        guard received >= 4 else { continue }
        let opcode = header.load(fromByteOffset: 1, as: UInt8.self)
        let number = Int(header.load(fromByteOffset: 2, as: UInt8.self)) << 8 | Int(header.load(fromByteOffset: 3, as: UInt8.self))
        if opcode == 5 {
            let text = UnsafeRawBufferPointer(rebasing: destination.bytes[offset..<offset + received - 4]).prefix { $0 != 0 }
            throw Failure("ERROR \(number): \(String(decoding: text, as: UTF8.self))")
        }
        guard opcode == 3 else { continue }
        guard number == expected & 0xFFFF else {
            // A gap (or an old block): its payload landed in the wanted block's place, which the right block
            // overwrites later. The last good block is acknowledged once per gap (RFC 7440 §4).
            if !gapAnswered, number != lastAcked & 0xFFFF {
                socket.send(ack(expected - 1))
                lastAcked = expected - 1
                gapAnswered = true
                gapAcks += 1
                inWindow = 0
            }
            continue
        }
        retries = 0
        gapAnswered = false
        inWindow += 1
        let payload = received - 4
        if payload < blockSize {
            socket.send(ack(expected))
            return Fetched(
                destination: destination, bytes: offset + payload, seconds: elapsed(), blockSize: blockSize, windowSize: windowSize,
                timeouts: timeouts, gapAcks: gapAcks)
        }
        if inWindow == windowSize {
            socket.send(ack(expected))
            lastAcked = expected
            inWindow = 0
        }
        expected += 1
    }
}

func write(_ bytes: UnsafeMutableRawBufferPointer.SubSequence, to path: String) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else { throw Failure("\(path): \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    var done = 0
    while done < bytes.count {
        let written = Glibc.write(descriptor, bytes.base.baseAddress! + bytes.startIndex + done, bytes.count - done)
        guard written > 0 else { throw Failure("\(path): \(String(cString: strerror(errno)))") }
        done += written
    }
}

/// To standard error, unbuffered (descriptor 2: Glibc's `stderr` is a global Swift 6 will not share).
func report(_ line: String) {
    var text = line
    text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
}

do {
    let arguments = try Arguments(Array(CommandLine.arguments.dropFirst()))
    let result = try fetch(arguments)
    if let output = arguments.output { try write(result.destination.bytes[..<result.bytes], to: output) }
    print("\(result.bytes) \(result.seconds)")
    let rate = Double(result.bytes) / 1_048_576 / result.seconds
    var line = "tftp-fetch: \(arguments.file): \(result.bytes) bytes in \(result.seconds) s, \(rate) MiB/s"
    line += " (blksize \(result.blockSize), windowsize \(result.windowSize), \(result.timeouts) timeouts, \(result.gapAcks) gap ACKs)\n"
    report(line)
} catch {
    report("tftp-fetch: \(error)\n")
    exit(1)
}
