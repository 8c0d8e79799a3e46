import CLDNS
import COpenSSL
import CPcap
import CSMBClient
import OSIS

/// The versions of the system libraries the appliance is linked against, as `provision version` shows
/// them: the first thing to compare when one machine behaves differently from another.
public enum LinkedLibraries {
    public static var versions: [(name: String, version: String)] {
        [
            ("libpcap", String(cString: pcap_lib_version())),
            ("ldns", String(cString: ldns_version())),
            ("libsmbclient", String(cString: smbc_version())),
            ("OpenSSL", String(cString: OpenSSL_version(OPENSSL_VERSION))),
            ("SQLite", SQLiteConnection.libraryVersion),
        ]
    }
}
