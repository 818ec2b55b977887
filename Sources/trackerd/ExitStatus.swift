
/// Exit codes with a meaning for systemd and for scripts. The sysexits.h values mark the
/// failures an operator must fix before a restart can help.
enum ExitStatus {
    /// check-config found errors; decode could not read its input.
    static let invalid = ExitCode(1)
    /// EX_NOINPUT: a file named on the command line does not exist or cannot be read.
    static let noInput = ExitCode(66)
    /// EX_CONFIG: the configuration is invalid; restarting will not help.
    static let configuration = ExitCode(78)
    /// EX_PROTOCOL: the cloud refused provisioning for good (template, parameters, policy).
    static let provisioningRejected = ExitCode(76)
    /// EX_NOPERM: a credential file's mode or owner is wrong (the log names the chmod/chown).
    static let credentials = ExitCode(77)
    /// EX_TEMPFAIL: trackerd stops to be started again (systemd restarts it: Restart=on-failure),
    /// for work that must come before the connection, such as a certificate rotation a job asked for.
    static let restart = ExitCode(75)
}
