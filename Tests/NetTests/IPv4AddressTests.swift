import Net
import Testing

@Suite struct IPv4AddressTests {
    @Test(arguments: ["10.0.0.1", "0.0.0.0", "255.255.255.255", "192.168.100.20"])
    func roundTrips(text: String) throws {
        let address = try #require(IPv4Address(text))
        #expect(address.description == text)
    }

    @Test(arguments: ["10.0.0", "10.0.0.256", "010.0.0.1", "1.2.3.4.5", "a.b.c.d", "", "1..2.3", " 1.2.3.4"])
    func rejects(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func subnetContainsAndBroadcast() throws {
        let subnet = try #require(IPv4Subnet("10.1.2.0/24"))
        #expect(subnet.contains(IPv4Address(10, 1, 2, 200)))
        #expect(!subnet.contains(IPv4Address(10, 1, 3, 1)))
        #expect(subnet.broadcast == IPv4Address(10, 1, 2, 255))
        #expect(subnet.mask == IPv4Address(255, 255, 255, 0))
    }

    @Test(arguments: ["10.0.0.1/24", "10.0.0.0/33", "10.0.0.0", "10.0.0.0/x"])
    func subnetRejects(text: String) {
        #expect(IPv4Subnet(text) == nil)
    }

    @Test func rangeParsesAndCounts() throws {
        let range = try #require(IPv4Range("10.0.0.100-10.0.0.199"))
        #expect(range.count == 100)
        #expect(IPv4Range("10.0.0.9-10.0.0.1") == nil)
    }

    @Test(arguments: [("0.0.0.0:8080", "0.0.0.0", 8080), ("[::1]:69", "::1", 69), ("localhost:0", "localhost", 0)])
    func listenAddress(text: String, host: String, port: Int) throws {
        let address = try #require(ListenAddress(text))
        #expect(address.host == host && address.port == port)
        #expect(address.description == text)
    }
}
