{{/*
The objects every component has, as one template each; the files under each component's folder
call them with (dict "root" $ "component" NAME). The gateway and the monolith serve HTTP; the
others serve gRPC only.
*/}}

{{- define "periscope.binary" -}}
{{- if eq .component "monolith" -}}periscope{{- else -}}periscope-{{ .component }}{{- end -}}
{{- end -}}

{{/* The gRPC health service name a component's probe asks for ("" = the whole server). */}}
{{- define "periscope.healthService" -}}
{{- $names := dict "userapi" "periscope.userapi.v1.UserApiService" "roomserver" "periscope.roomserver.v1.RoomserverService" "syncapi" "periscope.syncapi.v1.SyncApiService" "federationapi" "periscope.federationapi.v1.FederationApiService" "federationsender" "periscope.federationsender.v1.FederationSenderService" -}}
{{- get $names .component -}}
{{- end -}}

{{/*
A port of a component, (dict "root" $ "component" C "name" "client"|"federation"|"grpc"|"metrics"):
the component's own `ports.<name>` if set, else the chart-wide `ports.<name>`. In monolith mode
every listener is the monolith's, whichever component asks.
*/}}
{{- define "periscope.port" -}}
{{- $component := ternary "monolith" .component (eq .root.Values.mode "monolith") -}}
{{- $own := (index .root.Values.components $component).ports | default dict -}}
{{- if hasKey $own .name -}}
{{- get $own .name | int -}}
{{- else -}}
{{- index .root.Values.ports .name | int -}}
{{- end -}}
{{- end -}}

{{- define "periscope.servesHttp" -}}
{{- if or (eq .component "gateway") (eq .component "monolith") -}}true{{- end -}}
{{- end -}}

{{- define "periscope.servesGrpc" -}}
{{- if ne .component "gateway" -}}true{{- end -}}
{{- end -}}

{{- define "periscope.deployment" -}}
{{- $root := .root -}}
{{- $values := index $root.Values.components .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "periscope.componentName" . }}
  labels:
    {{- include "periscope.labels" . | nindent 4 }}
spec:
  {{- if not (and (eq .component "gateway") $root.Values.autoscaling.gateway.enabled) }}
  replicas: {{ $values.replicas }}
  {{- end }}
  {{- if eq .component "federationsender" }}
  # Never two at once, not even during a rollout: one consumer applies each room's output
  # messages in order (a second would split them and skip some) and owns the queues.
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "periscope.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "periscope.selectorLabels" . | nindent 8 }}
      annotations:
        # A config change rolls the pods.
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: {{ include "periscope.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: ["--config", "/etc/periscope/periscope.yaml"]
          command: [{{ include "periscope.binary" . | quote }}]
          {{- if $root.Values.database.existingSecret }}
          env:
            # libpq reads the password from PGPASSWORD when the DSN has none.
            - name: PGPASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ $root.Values.database.existingSecret }}
                  key: {{ $root.Values.database.passwordKey }}
          {{- end }}
          ports:
            {{- if include "periscope.servesHttp" . }}
            - name: http-client
              containerPort: {{ include "periscope.port" (dict "root" $root "component" .component "name" "client") }}
            - name: http-federation
              containerPort: {{ include "periscope.port" (dict "root" $root "component" .component "name" "federation") }}
            {{- end }}
            {{- if include "periscope.servesGrpc" . }}
            - name: grpc
              containerPort: {{ include "periscope.port" (dict "root" $root "component" .component "name" "grpc") }}
            {{- end }}
            - name: http-metrics
              containerPort: {{ include "periscope.port" (dict "root" $root "component" .component "name" "metrics") }}
          {{- if include "periscope.servesHttp" . }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http-client
            periodSeconds: 10
          readinessProbe:
            httpGet:
              path: /healthz
              port: http-client
            periodSeconds: 5
          {{- else }}
          livenessProbe:
            grpc:
              port: {{ include "periscope.port" (dict "root" $root "component" .component "name" "grpc") }}
            periodSeconds: 10
          readinessProbe:
            # NOT_SERVING while the component cannot reach PostgreSQL or NATS (the roomserver:
            # PostgreSQL only; while NATS is out its output waits in the outbox).
            grpc:
              port: {{ include "periscope.port" (dict "root" $root "component" .component "name" "grpc") }}
              service: {{ include "periscope.healthService" . | quote }}
            periodSeconds: 5
          {{- end }}
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          {{- /* The component's own top-level keys replace the chart-wide ones (false included,
          which Sprig's merge would drop). */}}
          {{- $securityContext := deepCopy $root.Values.securityContext }}
          {{- range $key, $value := ($values.securityContext | default dict) }}
          {{- $_ := set $securityContext $key $value }}
          {{- end }}
          securityContext:
            {{- toYaml $securityContext | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: /etc/periscope/periscope.yaml
              subPath: periscope.yaml
              readOnly: true
            - name: signing-key
              mountPath: /etc/periscope/keys
              readOnly: true
            {{- if not $root.Values.federation.plainHttp }}
            - name: federation-tls
              mountPath: /etc/periscope/federation-tls
              readOnly: true
            {{- end }}
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: config
          configMap:
            name: {{ include "periscope.fullname" $root }}-config
        - name: signing-key
          secret:
            secretName: {{ include "periscope.signingKeySecret" $root }}
            defaultMode: 0400
        {{- if not $root.Values.federation.plainHttp }}
        - name: federation-tls
          secret:
            secretName: {{ include "periscope.federationTlsSecret" $root }}
            defaultMode: 0400
        {{- end }}
        - name: tmp
          emptyDir: {}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{- define "periscope.service" -}}
{{- $root := .root -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "periscope.componentName" . }}
  labels:
    {{- include "periscope.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "periscope.selectorLabels" . | nindent 4 }}
  ports:
    {{- if include "periscope.servesHttp" . }}
    - name: http-client
      port: {{ include "periscope.port" (dict "root" $root "component" .component "name" "client") }}
      targetPort: http-client
    - name: http-federation
      port: {{ include "periscope.port" (dict "root" $root "component" .component "name" "federation") }}
      targetPort: http-federation
    {{- end }}
    {{- if include "periscope.servesGrpc" . }}
    - name: grpc
      port: {{ include "periscope.port" (dict "root" $root "component" .component "name" "grpc") }}
      targetPort: grpc
      appProtocol: grpc
    {{- end }}
    - name: http-metrics
      port: {{ include "periscope.port" (dict "root" $root "component" .component "name" "metrics") }}
      targetPort: http-metrics
{{- end -}}

{{- define "periscope.pdb" -}}
{{- if .root.Values.podDisruptionBudget.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "periscope.componentName" . }}
  labels:
    {{- include "periscope.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .root.Values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "periscope.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}
