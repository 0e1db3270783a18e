#if canImport(Glibc)
import Glibc
#endif

/// Why a file named in the config (or on the command line) cannot be read, in words:
/// "No such file or directory", "is a directory", "Permission denied".
public enum FileProblem {
    public static func describe(_ path: String) -> String {
        var st = stat()
        if stat(path, &st) != 0 { return String(cString: strerror(errno)) }
        if (st.st_mode & S_IFMT) == S_IFDIR { return "is a directory" }
        if access(path, R_OK) != 0 { return String(cString: strerror(errno)) }
        return "cannot be read"
    }
}
