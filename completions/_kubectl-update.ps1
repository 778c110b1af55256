
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kubectl-update' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kubectl-update'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kubectl-update' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Image to ship, e.g. registry.example.com/app:1.2.3 (repeatable; containers of the same repository get it, whatever their current tag or digest)')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Image to ship, e.g. registry.example.com/app:1.2.3 (repeatable; containers of the same repository get it, whatever their current tag or digest)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Update classifier: only workloads whose classifier annotation lists it are updated')
            [CompletionResult]::new('--classifier', '--classifier', [CompletionResultType]::ParameterName, 'Update classifier: only workloads whose classifier annotation lists it are updated')
            [CompletionResult]::new('--update-classifier', '--update-classifier', [CompletionResultType]::ParameterName, 'Update classifier: only workloads whose classifier annotation lists it are updated')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespaces to search (repeatable, or comma-separated); default: the context''s namespace')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespaces to search (repeatable, or comma-separated); default: the context''s namespace')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read manifests from files, directories (recursively) or `-` for stdin instead of the cluster: an offline preview that never contacts a cluster')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Read manifests from files, directories (recursively) or `-` for stdin instead of the cluster: an offline preview that never contacts a cluster')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Preview without writing: `client` plans from what is read; `server` also sends every write with dryRun=All')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up on the whole update after this long (e.g. 90s, 10m, 1h30m); a rollback after a failure gets a grace of half of it, at most 30s, so the run ends by --timeout plus that grace')
            [CompletionResult]::new('--fail-after', '--fail-after', [CompletionResultType]::ParameterName, 'Declare a rollout failed once a new pod has been stuck (pull error, crash loop) this long; 0 fails at once')
            [CompletionResult]::new('--max-restarts', '--max-restarts', [CompletionResultType]::ParameterName, 'Declare a rollout failed once a new pod has restarted this many times')
            [CompletionResult]::new('--on-interrupt', '--on-interrupt', [CompletionResultType]::ParameterName, 'What an interrupt (SIGINT, SIGTERM) during migrations does to the running migration copies: `keep` lets them finish (a re-run reuses a completed copy), `delete` stops them and removes their pods. No workload is touched either way; during the rollout an interrupt rolls back')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another run holding the lock of this classifier in a namespace (a Lease `kubectl-update-<classifier>`)')
            [CompletionResult]::new('--cause', '--cause', [CompletionResultType]::ParameterName, 'Why this change is made, recorded in kubernetes.io/change-cause and in the Events on each changed workload (one line, at most 1024 bytes); default: the CI run''s URL (GitHub Actions, GitLab CI, Buildkite, CircleCI, Jenkins, Azure Pipelines), else the images set')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: text (a table), json (a report object), yaml (the updated manifests; with -f only) or diff (what --write would change in the files; with -f only)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: text (a table), json (a report object), yaml (the updated manifests; with -f only) or diff (what --write would change in the files; with -f only)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each API request (e.g. 30s); 0 means no limit')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; NO_COLOR in the environment means never under auto')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Search every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Search every namespace')
            [CompletionResult]::new('--no-rollback', '--no-rollback', [CompletionResultType]::ParameterName, 'On a failed rollout, leave the workloads as they are instead of rolling back')
            [CompletionResult]::new('--fleet-rollback', '--fleet-rollback', [CompletionResultType]::ParameterName, 'In a fleet (several --context): when a wave fails, also roll back every wave already done, newest first (the failed wave itself is always rolled back)')
            [CompletionResult]::new('--refuse-managed', '--refuse-managed', [CompletionResultType]::ParameterName, 'Exit 1 before any change when a workload to update is managed by another owner (Argo CD, Flux, Helm, or another server-side apply manager of its image) that would revert the image; without it, such workloads are only warned about')
            [CompletionResult]::new('--no-lock', '--no-lock', [CompletionResultType]::ParameterName, 'Do not take the per-namespace lock (a Lease) that keeps concurrent runs for the same classifier apart')
            [CompletionResult]::new('--write', '--write', [CompletionResultType]::ParameterName, 'With -f: edit the manifest files in place, changing only the image values (comments, quoting and layout stay); prints a unified diff, or with -o json the report')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff), e.g. `kubectl update man > kubectl-update.1`')
            [CompletionResult]::new('rbac', 'rbac', [CompletionResultType]::ParameterValue, 'Print the least-privilege RBAC for a CI token: a ServiceAccount, Role and RoleBinding per namespace, and the admission policies that let it change nothing but images (apply it with `kubectl apply -f -`)')
            [CompletionResult]::new('kubeconfig', 'kubeconfig', [CompletionResultType]::ParameterValue, 'Print a kubeconfig for a ServiceAccount with a freshly minted token, ready to store as a CI secret')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Restore the images recorded before the last update of a classifier''s workloads')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show each opted-in workload of the classifiers: its images, revision and rollout, the last change, the previous images recorded and who holds the lock (reads only)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-update;completion' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each API request (e.g. 30s); 0 means no limit')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; NO_COLOR in the environment means never under auto')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-update;man' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each API request (e.g. 30s); 0 means no limit')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; NO_COLOR in the environment means never under auto')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-update;rbac' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespaces to grant in (repeatable, or comma-separated); each gets a ServiceAccount, Role and RoleBinding. Default: the context''s namespace. Never kube-system, kube-public, kube-node-lease or a --protected-namespace')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespaces to grant in (repeatable, or comma-separated); each gets a ServiceAccount, Role and RoleBinding. Default: the context''s namespace. Never kube-system, kube-public, kube-node-lease or a --protected-namespace')
            [CompletionResult]::new('--service-account', '--service-account', [CompletionResultType]::ParameterName, 'Name of the ServiceAccount (and of the Role and binding)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Classifier the token may deploy (repeatable, or comma-separated): the admission policy lets it change only workloads whose classifier annotation lists one, run only migration templates that list one, and take only their locks; --resource-names narrows to their workloads')
            [CompletionResult]::new('--classifier', '--classifier', [CompletionResultType]::ParameterName, 'Classifier the token may deploy (repeatable, or comma-separated): the admission policy lets it change only workloads whose classifier annotation lists one, run only migration templates that list one, and take only their locks; --resource-names narrows to their workloads')
            [CompletionResult]::new('--update-classifier', '--update-classifier', [CompletionResultType]::ParameterName, 'Classifier the token may deploy (repeatable, or comma-separated): the admission policy lets it change only workloads whose classifier annotation lists one, run only migration templates that list one, and take only their locks; --resource-names narrows to their workloads')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read the workloads (--resource-names) and migration templates (admission policy) from manifests instead of the cluster')
            [CompletionResult]::new('--filename', '--filename', [CompletionResultType]::ParameterName, 'Read the workloads (--resource-names) and migration templates (admission policy) from manifests instead of the cluster')
            [CompletionResult]::new('--allow-repository', '--allow-repository', [CompletionResultType]::ParameterName, 'A repository the admission policy allows images from, e.g. registry.example.com/team/app (repeatable; required unless --no-admission-policy)')
            [CompletionResult]::new('--protected-namespace', '--protected-namespace', [CompletionResultType]::ParameterName, 'A namespace the token may never write in, beyond kube-system, kube-public and kube-node-lease (repeatable, or comma-separated): e.g. the namespaces of operators whose ServiceAccounts hold cluster-wide rights')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: yaml or json (a List)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: yaml or json (a List)')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each API request (e.g. 30s); 0 means no limit')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; NO_COLOR in the environment means never under auto')
            [CompletionResult]::new('--cluster-wide', '--cluster-wide', [CompletionResultType]::ParameterName, 'Grant in every namespace (a ClusterRole and ClusterRoleBinding), for `kubectl update -A`; the ServiceAccount lives in the first -n namespace. Needs the admission policy, which keeps the token out of kube-system, kube-public, kube-node-lease and every --protected-namespace')
            [CompletionResult]::new('--resource-names', '--resource-names', [CompletionResultType]::ParameterName, 'Limit get, patch, watch, update and delete to the objects that exist now: the workloads listing a --classifier (read from the cluster, or from -f manifests) and the locks'' Leases')
            [CompletionResult]::new('--no-admission-policy', '--no-admission-policy', [CompletionResultType]::ParameterName, 'Leave out the admission policies (ValidatingAdmissionPolicies and bindings) that are generated by default: the token can then change any field of the workloads it may patch and create any Job, which runs as any ServiceAccount of the namespace')
            [CompletionResult]::new('--admission-policy', '--admission-policy', [CompletionResultType]::ParameterName, 'The admission policies are generated by default; accepted for compatibility')
            [CompletionResult]::new('--template', '--template', [CompletionResultType]::ParameterName, 'Print the committed template (rbac/): namespace `${NAMESPACE}`, for envsubst')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-update;kubeconfig' {
            [CompletionResult]::new('--service-account', '--service-account', [CompletionResultType]::ParameterName, 'The ServiceAccount to mint a token for')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The ServiceAccount''s namespace; also the kubeconfig context''s namespace. Default: the context''s namespace')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The ServiceAccount''s namespace; also the kubeconfig context''s namespace. Default: the context''s namespace')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long the token is valid: one pipeline run, at most a day (the API server may cap it; the expiry it granted is reported)')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The API server address to write, when CI reaches it at another address than you do')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each API request (e.g. 30s); 0 means no limit')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; NO_COLOR in the environment means never under auto')
            [CompletionResult]::new('--no-revocation-secret', '--no-revocation-secret', [CompletionResultType]::ParameterName, 'Do not bind the token to a new Secret (deleting that Secret revokes the token); an unbound token can only expire')
            [CompletionResult]::new('--insecure-skip-tls-verify', '--insecure-skip-tls-verify', [CompletionResultType]::ParameterName, 'Write `insecure-skip-tls-verify: true` into the kubeconfig (never done unless asked, even when your own kubeconfig skips verification)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-update;rollback' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Update classifier whose workloads to roll back')
            [CompletionResult]::new('--classifier', '--classifier', [CompletionResultType]::ParameterName, 'Update classifier whose workloads to roll back')
            [CompletionResult]::new('--update-classifier', '--update-classifier', [CompletionResultType]::ParameterName, 'Update classifier whose workloads to roll back')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespaces to search (repeatable, or comma-separated); default: the context''s namespace')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespaces to search (repeatable, or comma-separated); default: the context''s namespace')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 90s, 10m)')
            [CompletionResult]::new('--fail-after', '--fail-after', [CompletionResultType]::ParameterName, 'Declare the rollback''s rollout failed once a pod has been stuck this long')
            [CompletionResult]::new('--max-restarts', '--max-restarts', [CompletionResultType]::ParameterName, 'Declare the rollback''s rollout failed once a pod has restarted this many times')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be restored without writing')
            [CompletionResult]::new('--cause', '--cause', [CompletionResultType]::ParameterName, 'Why the rollback is made, recorded in kubernetes.io/change-cause and in the RolledBack Event on each workload (one line, at most 1024 bytes); default: the CI run''s URL')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: text or json')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: text or json')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each API request (e.g. 30s); 0 means no limit')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; NO_COLOR in the environment means never under auto')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Search every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Search every namespace')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'kubectl-update;status' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Classifiers whose workloads to show (repeatable, or comma-separated)')
            [CompletionResult]::new('--classifier', '--classifier', [CompletionResultType]::ParameterName, 'Classifiers whose workloads to show (repeatable, or comma-separated)')
            [CompletionResult]::new('--update-classifier', '--update-classifier', [CompletionResultType]::ParameterName, 'Classifiers whose workloads to show (repeatable, or comma-separated)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespaces to search (repeatable, or comma-separated); default: the context''s namespace')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespaces to search (repeatable, or comma-separated); default: the context''s namespace')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: text (a table) or json')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: text (a table) or json')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order')
            [CompletionResult]::new('--request-timeout', '--request-timeout', [CompletionResultType]::ParameterName, 'Time limit for each API request (e.g. 30s); 0 means no limit')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output; NO_COLOR in the environment means never under auto')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Search every namespace')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Search every namespace')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more (repeat for more detail)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'kubectl-update;help' {
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff), e.g. `kubectl update man > kubectl-update.1`')
            [CompletionResult]::new('rbac', 'rbac', [CompletionResultType]::ParameterValue, 'Print the least-privilege RBAC for a CI token: a ServiceAccount, Role and RoleBinding per namespace, and the admission policies that let it change nothing but images (apply it with `kubectl apply -f -`)')
            [CompletionResult]::new('kubeconfig', 'kubeconfig', [CompletionResultType]::ParameterValue, 'Print a kubeconfig for a ServiceAccount with a freshly minted token, ready to store as a CI secret')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Restore the images recorded before the last update of a classifier''s workloads')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show each opted-in workload of the classifiers: its images, revision and rollout, the last change, the previous images recorded and who holds the lock (reads only)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kubectl-update;help;completion' {
            break
        }
        'kubectl-update;help;man' {
            break
        }
        'kubectl-update;help;rbac' {
            break
        }
        'kubectl-update;help;kubeconfig' {
            break
        }
        'kubectl-update;help;rollback' {
            break
        }
        'kubectl-update;help;status' {
            break
        }
        'kubectl-update;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
