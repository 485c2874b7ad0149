/// The batch-engine job that runs a sweep as shards: a Slurm array job (one shard per array task)
/// or a Kubernetes indexed Job (one shard per completion index). Shard `i` of `n` (1-based) writes
/// to `OUTPUT/shards/i`; `tessera sweep merge OUTPUT/shards/* -o OUTPUT` then assembles the results.
public struct SweepBatchJob: Sendable {
    public var sweep: String
    public var points: Int
    /// The sweep file and output directory as the command line gave them (relative paths are
    /// relative to `workingDirectory` for Slurm, and to the volume's root for Kubernetes).
    public var spec: String
    public var output: String
    /// Where Slurm runs the tasks (the directory the script was written from).
    public var workingDirectory: String
    /// The tessera binary Slurm runs (absolute).
    public var tessera: String
    public var shards: Int
    /// Cores per task (and `--jobs` of each shard).
    public var cpusPerTask: Int

    public init(sweep: String, points: Int, spec: String, output: String, workingDirectory: String, tessera: String, shards: Int, cpusPerTask: Int) {
        self.sweep = sweep
        self.points = points
        self.spec = spec
        self.output = output
        self.workingDirectory = workingDirectory
        self.tessera = tessera
        self.shards = shards
        self.cpusPerTask = cpusPerTask
    }

    public static let slurmFile = "sweep.sbatch"
    public static let kubernetesFile = "sweep-job.yaml"

    /// `OUTPUT/shards`.
    public var shardsDirectory: String { join(output, "shards") }
    public var logsDirectory: String { join(output, "logs") }

    /// An sbatch script: `--array=1-n`, each task running its shard with `--jobs` = its cores.
    public func slurm(partition: String? = nil, time: String? = nil) -> String {
        var s = """
            #!/bin/bash
            # Tessera sweep '\(sweep)': \(points) points in \(shards) shards, one per Slurm array task.
            #   submit:  sbatch \(shellQuote(join(output, Self.slurmFile)))
            #   merge:   \(shellQuote(tessera)) sweep merge \(shellQuote(shardsDirectory))/* -o \(shellQuote(output))
            # or both:   sbatch --wait \(shellQuote(join(output, Self.slurmFile))) && \(shellQuote(tessera)) sweep merge \(shellQuote(shardsDirectory))/* -o \(shellQuote(output))
            #SBATCH --job-name=\(jobName)
            #SBATCH --array=1-\(shards)
            #SBATCH --ntasks=1
            #SBATCH --cpus-per-task=\(cpusPerTask)
            #SBATCH --chdir=\(workingDirectory)
            #SBATCH --output=\(join(logsDirectory, "shard-%a.log"))

            """
        if let partition { s += "#SBATCH --partition=\(partition)\n" }
        if let time { s += "#SBATCH --time=\(time)\n" }
        s += """
            set -euo pipefail
            shard="${SLURM_ARRAY_TASK_ID:?run this script with sbatch: it is a Slurm array job}"
            exec \(shellQuote(tessera)) sweep \(shellQuote(spec)) --shard "${shard}/\(shards)" -o \(shellQuote(shardsDirectory))/"${shard}" --jobs "${SLURM_CPUS_PER_TASK:-\(cpusPerTask)}"

            """
        return s
    }

    /// A Kubernetes indexed Job: `completions` = `parallelism` = shards; the container runs shard
    /// JOB_COMPLETION_INDEX + 1 in `workingDirectory` on a volume from `claim`.
    public func kubernetes(image: String, claim: String, mountPath: String = "/work") -> String {
        """
        # Tessera sweep '\(sweep)': \(points) points in \(shards) shards, one per completion index (shard = index + 1).
        # The image must have tessera on its PATH. The volume (claim '\(claim)', mounted at \(mountPath), the
        # working directory) must hold the sweep file, the files it names, and receives the results.
        #   kubectl apply -f \(join(output, Self.kubernetesFile))
        #   kubectl wait --for=condition=complete --timeout=24h job/\(jobName)
        #   tessera sweep merge \(shardsDirectory)/* -o \(output)          (in \(mountPath), on the volume)
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: \(jobName)
          labels:
            app.kubernetes.io/name: tessera-sweep
            app.kubernetes.io/instance: \(jobName)
        spec:
          completionMode: Indexed
          completions: \(shards)
          parallelism: \(shards)
          backoffLimit: \(max(3, shards))
          template:
            metadata:
              labels:
                app.kubernetes.io/name: tessera-sweep
                app.kubernetes.io/instance: \(jobName)
            spec:
              restartPolicy: Never
              containers:
                - name: shard
                  image: \(yamlQuote(image))
                  workingDir: \(yamlQuote(mountPath))
                  command: ["/bin/sh", "-c"]
                  args:
                    - |
                      shard=$((JOB_COMPLETION_INDEX + 1))
                      exec tessera sweep \(shellQuote(spec)) --shard "${shard}/\(shards)" -o \(shellQuote(shardsDirectory))/"${shard}" --jobs \(cpusPerTask)
                  resources:
                    requests:
                      cpu: "\(cpusPerTask)"
                  volumeMounts:
                    - name: work
                      mountPath: \(yamlQuote(mountPath))
              volumes:
                - name: work
                  persistentVolumeClaim:
                    claimName: \(yamlQuote(claim))

        """
    }

    /// `tessera-sweep-NAME` as a DNS-1123 label (lowercase letters, digits and '-', at most 63).
    public var jobName: String {
        var s = ""
        for c in ("tessera-sweep-" + sweep).lowercased() {
            let ok = c.isASCII && (c.isLetter || c.isNumber)
            if ok { s.append(c) } else if s.last != "-" { s.append("-") }
        }
        while s.hasSuffix("-") { s.removeLast() }
        return String(s.prefix(63)).trimmingSuffix("-")
    }

    private func join(_ a: String, _ b: String) -> String { a.hasSuffix("/") ? a + b : a + "/" + b }
}

/// A word for a POSIX shell: single-quoted unless it is plainly safe.
func shellQuote(_ s: String) -> String {
    if !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:@%+,".contains($0)) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// A YAML scalar: plain when it is plainly safe, else double-quoted.
func yamlQuote(_ s: String) -> String {
    if !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./:@".contains($0)) }), !s.hasPrefix("-"), !s.hasPrefix(":") {
        return s
    }
    return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

extension String {
    fileprivate func trimmingSuffix(_ c: Character) -> String {
        var s = self
        while s.last == c { s.removeLast() }
        return s
    }
}
