
use builtin;
use str;

set edit:completion:arg-completer[kubectl-update] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'kubectl-update'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'kubectl-update'= {
            cand -i 'Image to ship, e.g. registry.example.com/app:1.2.3 (repeatable; containers of the same repository get it, whatever their current tag or digest)'
            cand --image 'Image to ship, e.g. registry.example.com/app:1.2.3 (repeatable; containers of the same repository get it, whatever their current tag or digest)'
            cand -c 'Update classifier: only workloads whose classifier annotation lists it are updated'
            cand --classifier 'Update classifier: only workloads whose classifier annotation lists it are updated'
            cand --update-classifier 'Update classifier: only workloads whose classifier annotation lists it are updated'
            cand -n 'Namespaces to search (repeatable, or comma-separated); default: the context''s namespace'
            cand --namespace 'Namespaces to search (repeatable, or comma-separated); default: the context''s namespace'
            cand -f 'Read manifests from files, directories (recursively) or `-` for stdin instead of the cluster: an offline preview that never contacts a cluster'
            cand --filename 'Read manifests from files, directories (recursively) or `-` for stdin instead of the cluster: an offline preview that never contacts a cluster'
            cand --dry-run 'Preview without writing: `client` plans from what is read; `server` also sends every write with dryRun=All'
            cand --timeout 'Give up on the whole update after this long (e.g. 90s, 10m, 1h30m); a rollback after a failure gets a grace of half of it, at most 30s, so the run ends by --timeout plus that grace'
            cand --fail-after 'Declare a rollout failed once a new pod has been stuck (pull error, crash loop) this long; 0 fails at once'
            cand --max-restarts 'Declare a rollout failed once a new pod has restarted this many times'
            cand --on-interrupt 'What an interrupt (SIGINT, SIGTERM) during migrations does to the running migration copies: `keep` lets them finish (a re-run reuses a completed copy), `delete` stops them and removes their pods. No workload is touched either way; during the rollout an interrupt rolls back'
            cand --lock-timeout 'How long to wait for another run holding the lock of this classifier in a namespace (a Lease `kubectl-update-<classifier>`)'
            cand --cause 'Why this change is made, recorded in kubernetes.io/change-cause and in the Events on each changed workload (one line, at most 1024 bytes); default: the CI run''s URL (GitHub Actions, GitLab CI, Buildkite, CircleCI, Jenkins, Azure Pipelines), else the images set'
            cand -o 'Output format: text (a table), json (a report object), yaml (the updated manifests; with -f only) or diff (what --write would change in the files; with -f only)'
            cand --output 'Output format: text (a table), json (a report object), yaml (the updated manifests; with -f only) or diff (what --write would change in the files; with -f only)'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name'
            cand --context 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order'
            cand --request-timeout 'Time limit for each API request (e.g. 30s); 0 means no limit'
            cand --color 'When to colour output; NO_COLOR in the environment means never under auto'
            cand -A 'Search every namespace'
            cand --all-namespaces 'Search every namespace'
            cand --no-rollback 'On a failed rollout, leave the workloads as they are instead of rolling back'
            cand --fleet-rollback 'In a fleet (several --context): when a wave fails, also roll back every wave already done, newest first (the failed wave itself is always rolled back)'
            cand --refuse-managed 'Exit 1 before any change when a workload to update is managed by another owner (Argo CD, Flux, Helm, or another server-side apply manager of its image) that would revert the image; without it, such workloads are only warned about'
            cand --no-lock 'Do not take the per-namespace lock (a Lease) that keeps concurrent runs for the same classifier apart'
            cand --write 'With -f: edit the manifest files in place, changing only the image values (comments, quoting and layout stay); prints a unified diff, or with -o json the report'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand completion 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
            cand man 'Print the man page (roff), e.g. `kubectl update man > kubectl-update.1`'
            cand rbac 'Print the least-privilege RBAC for a CI token: a ServiceAccount, Role and RoleBinding per namespace, and the admission policies that let it change nothing but images (apply it with `kubectl apply -f -`)'
            cand kubeconfig 'Print a kubeconfig for a ServiceAccount with a freshly minted token, ready to store as a CI secret'
            cand rollback 'Restore the images recorded before the last update of a classifier''s workloads'
            cand status 'Show each opted-in workload of the classifiers: its images, revision and rollout, the last change, the previous images recorded and who holds the lock (reads only)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kubectl-update;completion'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name'
            cand --context 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order'
            cand --request-timeout 'Time limit for each API request (e.g. 30s); 0 means no limit'
            cand --color 'When to colour output; NO_COLOR in the environment means never under auto'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'kubectl-update;man'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name'
            cand --context 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order'
            cand --request-timeout 'Time limit for each API request (e.g. 30s); 0 means no limit'
            cand --color 'When to colour output; NO_COLOR in the environment means never under auto'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'kubectl-update;rbac'= {
            cand -n 'Namespaces to grant in (repeatable, or comma-separated); each gets a ServiceAccount, Role and RoleBinding. Default: the context''s namespace. Never kube-system, kube-public, kube-node-lease or a --protected-namespace'
            cand --namespace 'Namespaces to grant in (repeatable, or comma-separated); each gets a ServiceAccount, Role and RoleBinding. Default: the context''s namespace. Never kube-system, kube-public, kube-node-lease or a --protected-namespace'
            cand --service-account 'Name of the ServiceAccount (and of the Role and binding)'
            cand -c 'Classifier the token may deploy (repeatable, or comma-separated): the admission policy lets it change only workloads whose classifier annotation lists one, run only migration templates that list one, and take only their locks; --resource-names narrows to their workloads'
            cand --classifier 'Classifier the token may deploy (repeatable, or comma-separated): the admission policy lets it change only workloads whose classifier annotation lists one, run only migration templates that list one, and take only their locks; --resource-names narrows to their workloads'
            cand --update-classifier 'Classifier the token may deploy (repeatable, or comma-separated): the admission policy lets it change only workloads whose classifier annotation lists one, run only migration templates that list one, and take only their locks; --resource-names narrows to their workloads'
            cand -f 'Read the workloads (--resource-names) and migration templates (admission policy) from manifests instead of the cluster'
            cand --filename 'Read the workloads (--resource-names) and migration templates (admission policy) from manifests instead of the cluster'
            cand --allow-repository 'A repository the admission policy allows images from, e.g. registry.example.com/team/app (repeatable; required unless --no-admission-policy)'
            cand --protected-namespace 'A namespace the token may never write in, beyond kube-system, kube-public and kube-node-lease (repeatable, or comma-separated): e.g. the namespaces of operators whose ServiceAccounts hold cluster-wide rights'
            cand -o 'Output format: yaml or json (a List)'
            cand --output 'Output format: yaml or json (a List)'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name'
            cand --context 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order'
            cand --request-timeout 'Time limit for each API request (e.g. 30s); 0 means no limit'
            cand --color 'When to colour output; NO_COLOR in the environment means never under auto'
            cand --cluster-wide 'Grant in every namespace (a ClusterRole and ClusterRoleBinding), for `kubectl update -A`; the ServiceAccount lives in the first -n namespace. Needs the admission policy, which keeps the token out of kube-system, kube-public, kube-node-lease and every --protected-namespace'
            cand --resource-names 'Limit get, patch, watch, update and delete to the objects that exist now: the workloads listing a --classifier (read from the cluster, or from -f manifests) and the locks'' Leases'
            cand --no-admission-policy 'Leave out the admission policies (ValidatingAdmissionPolicies and bindings) that are generated by default: the token can then change any field of the workloads it may patch and create any Job, which runs as any ServiceAccount of the namespace'
            cand --admission-policy 'The admission policies are generated by default; accepted for compatibility'
            cand --template 'Print the committed template (rbac/): namespace `${NAMESPACE}`, for envsubst'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'kubectl-update;kubeconfig'= {
            cand --service-account 'The ServiceAccount to mint a token for'
            cand -n 'The ServiceAccount''s namespace; also the kubeconfig context''s namespace. Default: the context''s namespace'
            cand --namespace 'The ServiceAccount''s namespace; also the kubeconfig context''s namespace. Default: the context''s namespace'
            cand --duration 'How long the token is valid: one pipeline run, at most a day (the API server may cap it; the expiry it granted is reported)'
            cand --server 'The API server address to write, when CI reaches it at another address than you do'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name'
            cand --context 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order'
            cand --request-timeout 'Time limit for each API request (e.g. 30s); 0 means no limit'
            cand --color 'When to colour output; NO_COLOR in the environment means never under auto'
            cand --no-revocation-secret 'Do not bind the token to a new Secret (deleting that Secret revokes the token); an unbound token can only expire'
            cand --insecure-skip-tls-verify 'Write `insecure-skip-tls-verify: true` into the kubeconfig (never done unless asked, even when your own kubeconfig skips verification)'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'kubectl-update;rollback'= {
            cand -c 'Update classifier whose workloads to roll back'
            cand --classifier 'Update classifier whose workloads to roll back'
            cand --update-classifier 'Update classifier whose workloads to roll back'
            cand -n 'Namespaces to search (repeatable, or comma-separated); default: the context''s namespace'
            cand --namespace 'Namespaces to search (repeatable, or comma-separated); default: the context''s namespace'
            cand --timeout 'Give up after this long (e.g. 90s, 10m)'
            cand --fail-after 'Declare the rollback''s rollout failed once a pod has been stuck this long'
            cand --max-restarts 'Declare the rollback''s rollout failed once a pod has restarted this many times'
            cand --dry-run 'Show what would be restored without writing'
            cand --cause 'Why the rollback is made, recorded in kubernetes.io/change-cause and in the RolledBack Event on each workload (one line, at most 1024 bytes); default: the CI run''s URL'
            cand -o 'Output format: text or json'
            cand --output 'Output format: text or json'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name'
            cand --context 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order'
            cand --request-timeout 'Time limit for each API request (e.g. 30s); 0 means no limit'
            cand --color 'When to colour output; NO_COLOR in the environment means never under auto'
            cand -A 'Search every namespace'
            cand --all-namespaces 'Search every namespace'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'kubectl-update;status'= {
            cand -c 'Classifiers whose workloads to show (repeatable, or comma-separated)'
            cand --classifier 'Classifiers whose workloads to show (repeatable, or comma-separated)'
            cand --update-classifier 'Classifiers whose workloads to show (repeatable, or comma-separated)'
            cand -n 'Namespaces to search (repeatable, or comma-separated); default: the context''s namespace'
            cand --namespace 'Namespaces to search (repeatable, or comma-separated); default: the context''s namespace'
            cand -o 'Output format: text (a table) or json'
            cand --output 'Output format: text (a table) or json'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name'
            cand --context 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order'
            cand --request-timeout 'Time limit for each API request (e.g. 30s); 0 means no limit'
            cand --color 'When to colour output; NO_COLOR in the environment means never under auto'
            cand -A 'Search every namespace'
            cand --all-namespaces 'Search every namespace'
            cand -v 'Say more (repeat for more detail)'
            cand --verbose 'Say more (repeat for more detail)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'kubectl-update;help'= {
            cand completion 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
            cand man 'Print the man page (roff), e.g. `kubectl update man > kubectl-update.1`'
            cand rbac 'Print the least-privilege RBAC for a CI token: a ServiceAccount, Role and RoleBinding per namespace, and the admission policies that let it change nothing but images (apply it with `kubectl apply -f -`)'
            cand kubeconfig 'Print a kubeconfig for a ServiceAccount with a freshly minted token, ready to store as a CI secret'
            cand rollback 'Restore the images recorded before the last update of a classifier''s workloads'
            cand status 'Show each opted-in workload of the classifiers: its images, revision and rollout, the last change, the previous images recorded and who holds the lock (reads only)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kubectl-update;help;completion'= {
        }
        &'kubectl-update;help;man'= {
        }
        &'kubectl-update;help;rbac'= {
        }
        &'kubectl-update;help;kubeconfig'= {
        }
        &'kubectl-update;help;rollback'= {
        }
        &'kubectl-update;help;status'= {
        }
        &'kubectl-update;help;help'= {
        }
    ]
    $completions[$command]
}
