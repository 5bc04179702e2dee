;;; drive.el --- drives hapee-lsp from Emacs's eglot, set up as docs/editors.md says.
;;
;; Run as `emacs --batch -q -l drive.el' (site-start loads Debian's elpa-eglot). Writes what
;; the editor received as JSON lines to $HAPEE_EMACS_OUT:
;;   {"event":"diagnostics","messages":[...]}  flymake's diagnostics after opening
;;   {"event":"hover","text":...}               hover on $HAPEE_EMACS_HOVER_LINE/COL (0-based)
;;   {"event":"signature","text":...}           eldoc's signature at $HAPEE_EMACS_SIGNATURE_LINE/COL
;;   {"event":"edit","messages":[...]}          after inserting $HAPEE_EMACS_INSERT as a new line
;;                                             after line $HAPEE_EMACS_INSERT_AFTER (0-based)
;;   {"event":"error","message":...}            anything that failed

;; The set-up of docs/editors.md, word for word.
(require 'eglot)
(define-derived-mode haproxy-mode prog-mode "HAProxy"
  (setq-local comment-start "# "))
(add-to-list 'auto-mode-alist '("haproxy.*\\.cfg\\'" . haproxy-mode))
(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs `(haproxy-mode ,(getenv "HAPEE_LSP"))))
(add-hook 'haproxy-mode-hook #'eglot-ensure)

(require 'json)
(defvar drive-out (getenv "HAPEE_EMACS_OUT"))

(defun drive-emit (obj)
  (with-temp-buffer
    (insert (json-encode obj) "\n")
    (append-to-file (point-min) (point-max) drive-out)))

(defun drive-messages ()
  (vconcat (sort (mapcar #'flymake-diagnostic-text (flymake-diagnostics)) #'string<)))

(defun drive-wait (pred)
  "Runs what the command loop runs (its hooks, timers, process output) until PRED holds."
  (let ((deadline (+ (float-time) 120)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (run-hooks 'post-command-hook)
      (accept-process-output nil 0.05))
    (funcall pred)))

(defun drive-goto (line col)
  (goto-char (point-min))
  (forward-line line)
  (forward-char col))

(condition-case err
    (progn
      (find-file (getenv "HAPEE_EMACS_CFG"))
      (unless (drive-wait (lambda () (flymake-diagnostics)))
        (drive-emit '((event . "timeout"))))
      (drive-emit `((event . "diagnostics") (messages . ,(drive-messages))))
      (drive-goto (string-to-number (getenv "HAPEE_EMACS_HOVER_LINE"))
                  (string-to-number (getenv "HAPEE_EMACS_HOVER_COL")))
      (let ((hover (jsonrpc-request (eglot-current-server) :textDocument/hover
                                    (eglot--TextDocumentPositionParams))))
        (drive-emit `((event . "hover")
                      (text . ,(plist-get (plist-get hover :contents) :value)))))
      ;; What eldoc shows in the echo area with the point after `timeout server ': eglot asks
      ;; for the signature wherever the point stops.
      (drive-goto (string-to-number (getenv "HAPEE_EMACS_SIGNATURE_LINE"))
                  (string-to-number (getenv "HAPEE_EMACS_SIGNATURE_COL")))
      (let* ((shown 'none)
             (asked (eglot-signature-eldoc-function (lambda (s &rest _) (setq shown s)))))
        (when asked
          (drive-wait (lambda () (not (eq shown 'none)))))
        (drive-emit `((event . "signature")
                      (text . ,(if (stringp shown) (substring-no-properties shown) "")))))
      (drive-goto (string-to-number (getenv "HAPEE_EMACS_INSERT_AFTER")) 0)
      (end-of-line)
      (let ((before (drive-messages)))
        (insert "\n" (getenv "HAPEE_EMACS_INSERT"))
        ;; eglot sends edits from an idle timer, and batch Emacs is never idle: send them as
        ;; that timer would.
        (eglot--signal-textDocument/didChange)
        (drive-wait (lambda () (not (equal (drive-messages) before)))))
      (drive-emit `((event . "edit") (messages . ,(drive-messages))))
      (eglot-shutdown (eglot-current-server)))
  (error (drive-emit `((event . "error") (message . ,(format "%S" err))))))
(kill-emacs 0)
