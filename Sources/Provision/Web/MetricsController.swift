import Hummingbird
import NIOCore
import Prometheus

/// `GET /metrics`: every counter, gauge and histogram of the appliance in Prometheus text format.
struct MetricsController: Sendable {
    let registry: PrometheusCollectorRegistry

    func add(to router: Router<some RequestContext>) {
        router.get("metrics") { _, _ in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(16 * 1024)
            self.registry.emit(into: &bytes)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
