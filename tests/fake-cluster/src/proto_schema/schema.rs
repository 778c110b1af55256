//! The field tables: for each supported message, its field numbers, JSON names and how each is
//! decoded. Data only; never reads bytes.

/// How one field is decoded.
#[derive(Debug, Clone, Copy)]
pub(super) enum T {
    /// String, omitted when empty.
    S,
    /// Integer of a non-pointer field, omitted when zero.
    I,
    /// Integer of a pointer field (kept even when zero).
    P,
    /// Bool of a non-pointer field, omitted when false.
    B,
    /// Bool of a pointer field.
    PB,
    /// Repeated string.
    RS,
    /// Nested message.
    M(&'static str),
    /// Nested message kept even when empty (volume sources).
    MK(&'static str),
    /// Repeated message.
    RM(&'static str),
    /// map<string, string>.
    MapS,
    /// map<string, bytes> (base64 in JSON).
    MapB,
    /// map<string, Quantity>.
    MapQ,
    /// IntOrString.
    IntOrStr,
}

type Schema = &'static [(u32, &'static str, T)];

pub(super) fn schema(message: &str) -> Schema {
    use T::*;
    match message {
        "ObjectMeta" => &[
            (1, "name", S),
            (2, "generateName", S),
            (3, "namespace", S),
            (5, "uid", S),
            (6, "resourceVersion", S),
            (11, "labels", MapS),
            (12, "annotations", MapS),
            (13, "ownerReferences", RM("OwnerReference")),
            (14, "finalizers", RS),
        ],
        "OwnerReference" => &[
            (1, "kind", S),
            (3, "name", S),
            (4, "uid", S),
            (5, "apiVersion", S),
            (6, "controller", PB),
            (7, "blockOwnerDeletion", PB),
        ],
        "Namespace" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "spec", M("NamespaceSpec")),
        ],
        "NamespaceSpec" => &[(1, "finalizers", RS)],
        "Deployment" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "spec", M("DeploymentSpec")),
        ],
        "DeploymentSpec" => &[
            (1, "replicas", P),
            (2, "selector", M("LabelSelector")),
            (3, "template", M("PodTemplateSpec")),
            (4, "strategy", M("DeploymentStrategy")),
            (5, "minReadySeconds", I),
            (6, "revisionHistoryLimit", P),
            (7, "paused", B),
            (9, "progressDeadlineSeconds", P),
        ],
        "DeploymentStrategy" => &[
            (1, "type", S),
            (2, "rollingUpdate", M("RollingUpdateDeployment")),
        ],
        "RollingUpdateDeployment" => &[(1, "maxUnavailable", IntOrStr), (2, "maxSurge", IntOrStr)],
        "LabelSelector" => &[
            (1, "matchLabels", MapS),
            (2, "matchExpressions", RM("LabelSelectorRequirement")),
        ],
        "LabelSelectorRequirement" => &[(1, "key", S), (2, "operator", S), (3, "values", RS)],
        "PodTemplateSpec" => &[(1, "metadata", M("ObjectMeta")), (2, "spec", M("PodSpec"))],
        "PodSpec" => &[
            (1, "volumes", RM("Volume")),
            (2, "containers", RM("Container")),
            (3, "restartPolicy", S),
            (4, "terminationGracePeriodSeconds", P),
            (5, "activeDeadlineSeconds", P),
            (6, "dnsPolicy", S),
            (7, "nodeSelector", MapS),
            (8, "serviceAccountName", S),
            (9, "serviceAccount", S),
            (10, "nodeName", S),
            (11, "hostNetwork", B),
            (12, "hostPID", B),
            (13, "hostIPC", B),
            (15, "imagePullSecrets", RM("LocalObjectReference")),
            (16, "hostname", S),
            (17, "subdomain", S),
            (19, "schedulerName", S),
            (20, "initContainers", RM("Container")),
            (21, "automountServiceAccountToken", PB),
            (22, "tolerations", RM("Toleration")),
            (24, "priorityClassName", S),
        ],
        "Container" => &[
            (1, "name", S),
            (2, "image", S),
            (3, "command", RS),
            (4, "args", RS),
            (5, "workingDir", S),
            (6, "ports", RM("ContainerPort")),
            (7, "env", RM("EnvVar")),
            (8, "resources", M("ResourceRequirements")),
            (9, "volumeMounts", RM("VolumeMount")),
            (13, "terminationMessagePath", S),
            (14, "imagePullPolicy", S),
            (16, "stdin", B),
            (17, "stdinOnce", B),
            (18, "tty", B),
            (20, "terminationMessagePolicy", S),
        ],
        "ContainerPort" => &[
            (1, "name", S),
            (2, "hostPort", I),
            (3, "containerPort", I),
            (4, "protocol", S),
            (5, "hostIP", S),
        ],
        "EnvVar" => &[(1, "name", S), (2, "value", S)],
        "ResourceRequirements" => &[(1, "limits", MapQ), (2, "requests", MapQ)],
        "VolumeMount" => &[
            (1, "name", S),
            (2, "readOnly", B),
            (3, "mountPath", S),
            (4, "subPath", S),
        ],
        "Volume" => &[(1, "name", S), (2, "volumeSource", M("VolumeSource"))],
        "VolumeSource" => &[
            (2, "emptyDir", MK("EmptyDirVolumeSource")),
            (6, "secret", MK("SecretVolumeSource")),
            (19, "configMap", MK("ConfigMapVolumeSource")),
        ],
        "EmptyDirVolumeSource" => &[(1, "medium", S)],
        "SecretVolumeSource" => &[(1, "secretName", S)],
        "ConfigMapVolumeSource" => &[(1, "localObjectReference", M("LocalObjectReference"))],
        "LocalObjectReference" => &[(1, "name", S)],
        "Toleration" => &[
            (1, "key", S),
            (2, "operator", S),
            (3, "value", S),
            (4, "effect", S),
            (5, "tolerationSeconds", P),
        ],
        "Job" => &[(1, "metadata", M("ObjectMeta")), (2, "spec", M("JobSpec"))],
        "JobSpec" => &[
            (1, "parallelism", P),
            (2, "completions", P),
            (3, "activeDeadlineSeconds", P),
            (4, "selector", M("LabelSelector")),
            (5, "manualSelector", PB),
            (6, "template", M("PodTemplateSpec")),
            (7, "backoffLimit", P),
            (8, "ttlSecondsAfterFinished", P),
            (9, "completionMode", S),
            (10, "suspend", PB),
        ],
        "CronJob" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "spec", M("CronJobSpec")),
        ],
        "CronJobSpec" => &[
            (1, "schedule", S),
            (2, "startingDeadlineSeconds", P),
            (3, "concurrencyPolicy", S),
            (4, "suspend", PB),
            (5, "jobTemplate", M("JobTemplateSpec")),
            (6, "successfulJobsHistoryLimit", P),
            (7, "failedJobsHistoryLimit", P),
            (8, "timeZone", S),
        ],
        "JobTemplateSpec" => &[(1, "metadata", M("ObjectMeta")), (2, "spec", M("JobSpec"))],
        "ConfigMap" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "data", MapS),
            (3, "binaryData", MapB),
            (4, "immutable", PB),
        ],
        "Secret" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "data", MapB),
            (3, "type", S),
            (4, "stringData", MapS),
            (5, "immutable", PB),
        ],
        "ServiceAccount" => &[
            (1, "metadata", M("ObjectMeta")),
            (3, "imagePullSecrets", RM("LocalObjectReference")),
            (4, "automountServiceAccountToken", PB),
        ],
        "Role" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "rules", RM("PolicyRule")),
        ],
        "ClusterRole" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "rules", RM("PolicyRule")),
            (3, "aggregationRule", M("AggregationRule")),
        ],
        "AggregationRule" => &[(1, "clusterRoleSelectors", RM("LabelSelector"))],
        "PolicyRule" => &[
            (1, "verbs", RS),
            (2, "apiGroups", RS),
            (3, "resources", RS),
            (4, "resourceNames", RS),
            (5, "nonResourceURLs", RS),
        ],
        "RoleBinding" | "ClusterRoleBinding" => &[
            (1, "metadata", M("ObjectMeta")),
            (2, "subjects", RM("Subject")),
            (3, "roleRef", M("RoleRef")),
        ],
        "Subject" => &[
            (1, "kind", S),
            (2, "apiGroup", S),
            (3, "name", S),
            (4, "namespace", S),
        ],
        "RoleRef" => &[(1, "apiGroup", S), (2, "kind", S), (3, "name", S)],
        _ => &[],
    }
}
