import WardenPolicy

/// The object that carries the agent's pod spec in a Kubernetes export.
public enum KubernetesWorkloadKind: String, Sendable, CaseIterable {
    /// A `batch/v1` Job: runs the agent once (`backoffLimit: 0`, `restartPolicy: Never`) and is
    /// deleted `ttlSecondsAfterFinished` after it ends. Applied as is.
    case job
    /// A bare `v1` Pod with `restartPolicy: Never`. Applied as is.
    case pod
    /// A `v1` PodTemplate to copy into a controller, with the SPO `SeccompProfile` in the same
    /// file: the output from before the other kinds existed, kept byte for byte.
    case podtemplate
}

/// Assembling the workload object and the files' comments.
extension KubernetesExport {
    /// The workload object of `kind` around `spec`. `restartPolicy: Never` is added for a Job
    /// (which requires Never or OnFailure) and a Pod; a PodTemplate's spec is left as it was.
    /// The TTL is an int32 in the API: larger values are clamped.
    static func workload(_ kind: KubernetesWorkloadKind, metadata: ExportValue, labels: ExportValue,
                         spec: [(String, ExportValue)], ttlSecondsAfterFinished: UInt32) -> ExportValue {
        var podSpec = spec
        if kind != .podtemplate {
            let at = podSpec.first?.0 == "activeDeadlineSeconds" ? 1 : 0
            podSpec.insert(("restartPolicy", .string("Never")), at: at)
        }
        let template = ExportValue.object([("metadata", .object([("labels", labels)])), ("spec", .object(podSpec))])
        switch kind {
        case .podtemplate:
            return .object([("apiVersion", .string("v1")), ("kind", .string("PodTemplate")),
                            ("metadata", metadata), ("template", template)])
        case .pod:
            return .object([("apiVersion", .string("v1")), ("kind", .string("Pod")),
                            ("metadata", metadata), ("spec", .object(podSpec))])
        case .job:
            return .object([("apiVersion", .string("batch/v1")), ("kind", .string("Job")), ("metadata", metadata),
                            ("spec", .object([("backoffLimit", .int(0)),
                                              ("ttlSecondsAfterFinished", .int(Int64(min(ttlSecondsAfterFinished, UInt32(Int32.max))))),
                                              ("template", template)]))])
        }
    }

    /// Throws unless `name` can name a Job (a DNS-1123 subdomain of at most 63 characters, because
    /// the Job controller copies it into the `job-name` label) or a Pod (a DNS-1123 subdomain).
    static func checkObjectName(_ name: String, kind: KubernetesWorkloadKind, identity: String) throws(ExportError) {
        let limit = kind == .job ? 63 : 253
        let alnum = { (c: Unicode.Scalar) in (c >= "a" && c <= "z") || (c >= "0" && c <= "9") }
        let labels = name.unicodeScalars.split(separator: ".", omittingEmptySubsequences: false)
        let valid = name.unicodeScalars.count <= limit && labels.allSatisfy { l in
            guard let f = l.first, let e = l.last, alnum(f), alnum(e) else { return false }
            return l.allSatisfy { alnum($0) || $0 == "-" }
        }
        guard valid else {
            let why = kind == .job
                ? "is not a Job name (a DNS subdomain of at most 63 characters, because it becomes the pods' job-name label); use an identity of at most 56 characters, or --kind pod or podtemplate"
                : "is not a Pod name (a DNS subdomain); use --kind podtemplate"
            throw .invalidName(identity, reason: "gives the object name `\(name)`, which \(why)")
        }
    }

    /// The workload file's comment block, after the notes: how to apply it and where the seccomp
    /// profile comes from.
    static func usageComment(_ kind: KubernetesWorkloadKind, name: String, profilePath: String, ttl: UInt32) -> String {
        var c = "#\n"
        switch kind {
        case .podtemplate:
            c += "# PodTemplate: copy .template into a Deployment, Job or Pod. The seccomp profile must be on the node at\n"
            c += "# /var/lib/kubelet/seccomp/\(profilePath) (the .json written next to this file), or installed by the\n"
            c += "# Security Profiles Operator from the SeccompProfile below, in which case set localhostProfile to\n"
            c += "# operator/<namespace>/\(name).json. Replace the workspace emptyDir with the real volume.\n"
            return c
        case .job:
            c += "# Job: `kubectl apply -f` runs the agent once (backoffLimit 0: no retry; deleted \(ttl)s after it ends).\n"
        case .pod:
            c += "# Pod: `kubectl apply -f` runs the agent once (restartPolicy Never).\n"
        }
        c += "# The seccomp profile must be on the node at /var/lib/kubelet/seccomp/\(profilePath) (--output writes\n"
        c += "# it to seccomp/\(profilePath)), or installed by the Security Profiles Operator from seccomp-profile.yaml\n"
        c += "# (kept apart: it needs the operator's CRD), in which case set localhostProfile to\n"
        c += "# operator/<namespace>/\(name).json. Replace the workspace emptyDir with the real volume.\n"
        return c
    }
}
