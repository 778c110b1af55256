# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_update_global_optspecs
    string join \n i/image= c/classifier= n/namespace= A/all-namespaces f/filename= dry-run= timeout= fail-after= max-restarts= no-rollback fleet-rollback refuse-managed on-interrupt= lock-timeout= no-lock cause= o/output= write kubeconfig= context= request-timeout= color= v/verbose h/help V/version
end

function __fish_kubectl_update_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_update_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_update_using_subcommand
    set -l cmd (__fish_kubectl_update_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -s i -l image -d 'Image to ship, e.g. registry.example.com/app:1.2.3 (repeatable; containers of the same repository get it, whatever their current tag or digest)' -r
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -s c -l classifier -l update-classifier -d 'Update classifier: only workloads whose classifier annotation lists it are updated' -r
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -s n -l namespace -d 'Namespaces to search (repeatable, or comma-separated); default: the context\'s namespace' -r
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -s f -l filename -d 'Read manifests from files, directories (recursively) or `-` for stdin instead of the cluster: an offline preview that never contacts a cluster' -r -F
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l dry-run -d 'Preview without writing: `client` plans from what is read; `server` also sends every write with dryRun=All' -r -f -a "none\t'Do not preview: the same as leaving --dry-run out'
client\t'Plan from what is read; write nothing'
server\t'Plan, then send every write with dryRun=All so the server validates it'"
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l timeout -d 'Give up on the whole update after this long (e.g. 90s, 10m, 1h30m); a rollback after a failure gets a grace of half of it, at most 30s, so the run ends by --timeout plus that grace' -r
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l fail-after -d 'Declare a rollout failed once a new pod has been stuck (pull error, crash loop) this long; 0 fails at once' -r
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l max-restarts -d 'Declare a rollout failed once a new pod has restarted this many times' -r
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l on-interrupt -d 'What an interrupt (SIGINT, SIGTERM) during migrations does to the running migration copies: `keep` lets them finish (a re-run reuses a completed copy), `delete` stops them and removes their pods. No workload is touched either way; during the rollout an interrupt rolls back' -r -f -a "keep\t'Let them finish: stopping a migration half-way is riskier than letting it complete, and a re-run of the same image reuses the completed copy'
delete\t'Delete them and their pods'"
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l lock-timeout -d 'How long to wait for another run holding the lock of this classifier in a namespace (a Lease `kubectl-update-<classifier>`)' -r
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l cause -d 'Why this change is made, recorded in kubernetes.io/change-cause and in the Events on each changed workload (one line, at most 1024 bytes); default: the CI run\'s URL (GitHub Actions, GitLab CI, Buildkite, CircleCI, Jenkins, Azure Pipelines), else the images set' -r
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -s o -l output -d 'Output format: text (a table), json (a report object), yaml (the updated manifests; with -f only) or diff (what --write would change in the files; with -f only)' -r -f -a "text\t''
json\t''
yaml\t''
diff\t'A unified diff of the manifest files, as `--write` would change them (with -f only)'"
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name' -r -F
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l context -d 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order' -r
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l request-timeout -d 'Time limit for each API request (e.g. 30s); 0 means no limit' -r
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l color -d 'When to colour output; NO_COLOR in the environment means never under auto' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -s A -l all-namespaces -d 'Search every namespace'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l no-rollback -d 'On a failed rollout, leave the workloads as they are instead of rolling back'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l fleet-rollback -d 'In a fleet (several --context): when a wave fails, also roll back every wave already done, newest first (the failed wave itself is always rolled back)'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l refuse-managed -d 'Exit 1 before any change when a workload to update is managed by another owner (Argo CD, Flux, Helm, or another server-side apply manager of its image) that would revert the image; without it, such workloads are only warned about'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l no-lock -d 'Do not take the per-namespace lock (a Lease) that keeps concurrent runs for the same classifier apart'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -l write -d 'With -f: edit the manifest files in place, changing only the image values (comments, quoting and layout stay); prints a unified diff, or with -o json the report'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -f -a "man" -d 'Print the man page (roff), e.g. `kubectl update man > kubectl-update.1`'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -f -a "rbac" -d 'Print the least-privilege RBAC for a CI token: a ServiceAccount, Role and RoleBinding per namespace, and the admission policies that let it change nothing but images (apply it with `kubectl apply -f -`)'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -f -a "kubeconfig" -d 'Print a kubeconfig for a ServiceAccount with a freshly minted token, ready to store as a CI secret'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -f -a "rollback" -d 'Restore the images recorded before the last update of a classifier\'s workloads'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -f -a "status" -d 'Show each opted-in workload of the classifiers: its images, revision and rollout, the last change, the previous images recorded and who holds the lock (reads only)'
complete -c kubectl-update -n "__fish_kubectl_update_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name' -r -F
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand completion" -l context -d 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand completion" -l request-timeout -d 'Time limit for each API request (e.g. 30s); 0 means no limit' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand completion" -l color -d 'When to colour output; NO_COLOR in the environment means never under auto' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand completion" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand man" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name' -r -F
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand man" -l context -d 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand man" -l request-timeout -d 'Time limit for each API request (e.g. 30s); 0 means no limit' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand man" -l color -d 'When to colour output; NO_COLOR in the environment means never under auto' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand man" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand man" -s h -l help -d 'Print help'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -s n -l namespace -d 'Namespaces to grant in (repeatable, or comma-separated); each gets a ServiceAccount, Role and RoleBinding. Default: the context\'s namespace. Never kube-system, kube-public, kube-node-lease or a --protected-namespace' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -l service-account -d 'Name of the ServiceAccount (and of the Role and binding)' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -s c -l classifier -l update-classifier -d 'Classifier the token may deploy (repeatable, or comma-separated): the admission policy lets it change only workloads whose classifier annotation lists one, run only migration templates that list one, and take only their locks; --resource-names narrows to their workloads' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -s f -l filename -d 'Read the workloads (--resource-names) and migration templates (admission policy) from manifests instead of the cluster' -r -F
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -l allow-repository -d 'A repository the admission policy allows images from, e.g. registry.example.com/team/app (repeatable; required unless --no-admission-policy)' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -l protected-namespace -d 'A namespace the token may never write in, beyond kube-system, kube-public and kube-node-lease (repeatable, or comma-separated): e.g. the namespaces of operators whose ServiceAccounts hold cluster-wide rights' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -s o -l output -d 'Output format: yaml or json (a List)' -r -f -a "yaml\t''
json\t''"
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name' -r -F
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -l context -d 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -l request-timeout -d 'Time limit for each API request (e.g. 30s); 0 means no limit' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -l color -d 'When to colour output; NO_COLOR in the environment means never under auto' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -l cluster-wide -d 'Grant in every namespace (a ClusterRole and ClusterRoleBinding), for `kubectl update -A`; the ServiceAccount lives in the first -n namespace. Needs the admission policy, which keeps the token out of kube-system, kube-public, kube-node-lease and every --protected-namespace'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -l resource-names -d 'Limit get, patch, watch, update and delete to the objects that exist now: the workloads listing a --classifier (read from the cluster, or from -f manifests) and the locks\' Leases'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -l no-admission-policy -d 'Leave out the admission policies (ValidatingAdmissionPolicies and bindings) that are generated by default: the token can then change any field of the workloads it may patch and create any Job, which runs as any ServiceAccount of the namespace'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -l admission-policy -d 'The admission policies are generated by default; accepted for compatibility'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -l template -d 'Print the committed template (rbac/): namespace `${NAMESPACE}`, for envsubst'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rbac" -s h -l help -d 'Print help'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand kubeconfig" -l service-account -d 'The ServiceAccount to mint a token for' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand kubeconfig" -s n -l namespace -d 'The ServiceAccount\'s namespace; also the kubeconfig context\'s namespace. Default: the context\'s namespace' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand kubeconfig" -l duration -d 'How long the token is valid: one pipeline run, at most a day (the API server may cap it; the expiry it granted is reported)' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand kubeconfig" -l server -d 'The API server address to write, when CI reaches it at another address than you do' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand kubeconfig" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name' -r -F
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand kubeconfig" -l context -d 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand kubeconfig" -l request-timeout -d 'Time limit for each API request (e.g. 30s); 0 means no limit' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand kubeconfig" -l color -d 'When to colour output; NO_COLOR in the environment means never under auto' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand kubeconfig" -l no-revocation-secret -d 'Do not bind the token to a new Secret (deleting that Secret revokes the token); an unbound token can only expire'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand kubeconfig" -l insecure-skip-tls-verify -d 'Write `insecure-skip-tls-verify: true` into the kubeconfig (never done unless asked, even when your own kubeconfig skips verification)'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand kubeconfig" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand kubeconfig" -s h -l help -d 'Print help'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -s c -l classifier -l update-classifier -d 'Update classifier whose workloads to roll back' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -s n -l namespace -d 'Namespaces to search (repeatable, or comma-separated); default: the context\'s namespace' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -l timeout -d 'Give up after this long (e.g. 90s, 10m)' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -l fail-after -d 'Declare the rollback\'s rollout failed once a pod has been stuck this long' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -l max-restarts -d 'Declare the rollback\'s rollout failed once a pod has restarted this many times' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -l dry-run -d 'Show what would be restored without writing' -r -f -a "none\t'Do not preview: the same as leaving --dry-run out'
client\t'Plan from what is read; write nothing'
server\t'Plan, then send every write with dryRun=All so the server validates it'"
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -l cause -d 'Why the rollback is made, recorded in kubernetes.io/change-cause and in the RolledBack Event on each workload (one line, at most 1024 bytes); default: the CI run\'s URL' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -s o -l output -d 'Output format: text or json' -r -f -a "text\t''
json\t''
yaml\t''
diff\t'A unified diff of the manifest files, as `--write` would change them (with -f only)'"
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name' -r -F
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -l context -d 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -l request-timeout -d 'Time limit for each API request (e.g. 30s); 0 means no limit' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -l color -d 'When to colour output; NO_COLOR in the environment means never under auto' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -s A -l all-namespaces -d 'Search every namespace'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand status" -s c -l classifier -l update-classifier -d 'Classifiers whose workloads to show (repeatable, or comma-separated)' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand status" -s n -l namespace -d 'Namespaces to search (repeatable, or comma-separated); default: the context\'s namespace' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand status" -s o -l output -d 'Output format: text (a table) or json' -r -f -a "text\t''
json\t''"
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config); repeatable: the files are merged as kubectl merges them, the first file wins for a name' -r -F
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand status" -l context -d 'The kubeconfig context to use. An update takes a fleet: each --context is one wave, its comma-separated contexts are updated in parallel, and the waves run in order' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand status" -l request-timeout -d 'Time limit for each API request (e.g. 30s); 0 means no limit' -r
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand status" -l color -d 'When to colour output; NO_COLOR in the environment means never under auto' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand status" -s A -l all-namespaces -d 'Search every namespace'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand status" -s v -l verbose -d 'Say more (repeat for more detail)'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand status" -s h -l help -d 'Print help'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand help; and not __fish_seen_subcommand_from completion man rbac kubeconfig rollback status help" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand help; and not __fish_seen_subcommand_from completion man rbac kubeconfig rollback status help" -f -a "man" -d 'Print the man page (roff), e.g. `kubectl update man > kubectl-update.1`'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand help; and not __fish_seen_subcommand_from completion man rbac kubeconfig rollback status help" -f -a "rbac" -d 'Print the least-privilege RBAC for a CI token: a ServiceAccount, Role and RoleBinding per namespace, and the admission policies that let it change nothing but images (apply it with `kubectl apply -f -`)'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand help; and not __fish_seen_subcommand_from completion man rbac kubeconfig rollback status help" -f -a "kubeconfig" -d 'Print a kubeconfig for a ServiceAccount with a freshly minted token, ready to store as a CI secret'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand help; and not __fish_seen_subcommand_from completion man rbac kubeconfig rollback status help" -f -a "rollback" -d 'Restore the images recorded before the last update of a classifier\'s workloads'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand help; and not __fish_seen_subcommand_from completion man rbac kubeconfig rollback status help" -f -a "status" -d 'Show each opted-in workload of the classifiers: its images, revision and rollout, the last change, the previous images recorded and who holds the lock (reads only)'
complete -c kubectl-update -n "__fish_kubectl_update_using_subcommand help; and not __fish_seen_subcommand_from completion man rbac kubeconfig rollback status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
