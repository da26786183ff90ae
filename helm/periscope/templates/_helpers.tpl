{{/* The chart's name, truncated to DNS label size. */}}
{{- define "periscope.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's base name for every object. */}}
{{- define "periscope.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Standard labels; call with (dict "root" $ "component" "syncapi"). */}}
{{- define "periscope.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{ include "periscope.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{- define "periscope.selectorLabels" -}}
app.kubernetes.io/name: {{ include "periscope.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* One component's objects are named <fullname>-<component>. */}}
{{- define "periscope.componentName" -}}
{{- printf "%s-%s" (include "periscope.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "periscope.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "periscope.signingKeySecret" -}}
{{- default (printf "%s-signing-key" (include "periscope.fullname" .)) .Values.signingKey.existingSecret -}}
{{- end -}}

{{- define "periscope.federationTlsSecret" -}}
{{- default (printf "%s-federation-tls" (include "periscope.fullname" .)) .Values.federation.tls.existingSecret -}}
{{- end -}}

{{/* The mesh components (the gateway is handled with them, but has no gRPC service). */}}
{{- define "periscope.internalComponents" -}}
userapi roomserver syncapi federationapi federationsender
{{- end -}}

{{/* Early, clear failures for values the schema cannot express. */}}
{{- define "periscope.validate" -}}
{{- if and (eq .Values.mode "monolith") .Values.autoscaling.gateway.enabled -}}
{{- fail "autoscaling.gateway.enabled needs mode: mesh (the monolith runs the gateway in its single process)" -}}
{{- end -}}
{{- end -}}
