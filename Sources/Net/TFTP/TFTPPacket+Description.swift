import NIOCore

/// One stable line per packet, as the pcap golden files show them.
extension TFTPPacket: CustomStringConvertible {
    public var description: String {
        switch self {
        case .readRequest(let request): return "RRQ \(request)"
        case .writeRequest(let request): return "WRQ \(request)"
        case .data(let block, let payload): return "DATA block=\(block) bytes=\(payload.readableBytes)"
        case .ack(let block): return "ACK block=\(block)"
        case .error(let code, let message): return "ERROR \(code) \"\(message)\""
        case .optionAck(let options): return "OACK \(options)"
        }
    }
}

extension TFTPRequest: CustomStringConvertible {
    public var description: String {
        options.isEmpty ? "\"\(filename)\" \(mode)" : "\"\(filename)\" \(mode) \(options)"
    }
}

extension TFTPOptionList: CustomStringConvertible {
    public var description: String { entries.map { "\($0.name)=\($0.value)" }.joined(separator: " ") }
}
