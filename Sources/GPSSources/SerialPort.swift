#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A tty opened for NMEA: raw mode (no echo, no line editing, no CR/LF translation), 8N1,
/// at one of the standard baud rates. The descriptor is non-blocking; readers poll it.
struct SerialPort: ~Copyable {
    let fd: Int32

    enum OpenError: Error, CustomStringConvertible {
        case open(path: String, errno: Int32)
        case configure(path: String, errno: Int32)
        case unsupportedBaud(Int)

        var description: String {
            switch self {
            case .open(let path, let code): "cannot open \(path): \(String(cString: strerror(code)))" + Self.hint(code)
            case .configure(let path, let code): "cannot set \(path) to raw mode: \(String(cString: strerror(code)))"
            case .unsupportedBaud(let baud): "\(baud) baud is not supported"
            }
        }

        var errnoValue: Int32? {
            switch self {
            case .open(_, let code), .configure(_, let code): code
            case .unsupportedBaud: nil
            }
        }

        private static func hint(_ code: Int32) -> String {
            switch code {
            case EACCES: " (is the trackerd user in the dialout group?)"
            case ENOENT, ENXIO, ENODEV: " (receiver unplugged?)"
            case EBUSY: " (another program holds the port: is gpsd using it?)"
            default: ""
            }
        }
    }

    static func speed(for baud: Int) -> speed_t? {
        switch baud {
        case 4800: speed_t(B4800)
        case 9600: speed_t(B9600)
        case 19200: speed_t(B19200)
        case 38400: speed_t(B38400)
        case 57600: speed_t(B57600)
        case 115200: speed_t(B115200)
        case 230400: speed_t(B230400)
        case 460800: speed_t(B460800)
        case 921600: speed_t(B921600)
        default: nil
        }
    }

    init(path: String, baud: Int) throws(OpenError) {
        guard let speed = Self.speed(for: baud) else { throw .unsupportedBaud(baud) }
        let fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .open(path: path, errno: errno) }
        var tio = termios()
        if tcgetattr(fd, &tio) == 0 {
            cfmakeraw(&tio)
            tio.c_cflag |= tcflag_t(CLOCAL) | tcflag_t(CREAD)
            tio.c_cflag &= ~(tcflag_t(CSTOPB) | tcflag_t(CRTSCTS))
            cfsetispeed(&tio, speed)
            cfsetospeed(&tio, speed)
            if tcsetattr(fd, TCSANOW, &tio) != 0 {
                let code = errno
                close(fd)
                throw .configure(path: path, errno: code)
            }
            tcflush(fd, TCIFLUSH)
        } else if errno != ENOTTY {
            // Not a tty at all (a FIFO in a bench rig) is fine; a tty we cannot query is not.
            let code = errno
            close(fd)
            throw .configure(path: path, errno: code)
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
